// Image helpers of the CLIs: tensors <-> OpenCV, heatmap overlays, PNG grids.
#pragma once

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace prn::cli {

// (3, H, W) float RGB in [0, 1] -> 8-bit BGR image.
cv::Mat to_bgr8(const torch::Tensor &rgb);
// (H, W) or (1, H, W) in [0, 1] -> 8-bit single channel.
cv::Mat to_gray8(const torch::Tensor &map);
// The image with a JET heatmap of `map` (scores in [0, 1]) blended over it.
cv::Mat overlay(const torch::Tensor &rgb, const torch::Tensor &map, double alpha = 0.5);
// Writes `s` at the tile's bottom left, white on a black outline.
void label(cv::Mat &tile, const std::string &s);
// image (captioned) | mask | heatmap overlay of `map` with the mask's outline
// in white; tiles upscaled (nearest) to at least 256 px.
std::vector<cv::Mat> overlay_strip(const torch::Tensor &image, const torch::Tensor &mask, const torch::Tensor &map,
                                   const std::string &caption);
// Tiles same-sized BGR images into rows of `columns`, with a 2-pixel gap.
cv::Mat grid(const std::vector<cv::Mat> &tiles, int columns);
// Writes a PNG atomically (temporary file + rename); throws prn::Error naming
// the file on failure.
void write_png(const std::string &path, const cv::Mat &image);

} // namespace prn::cli
