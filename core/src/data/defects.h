// The line-scan generator's defects: scratches, spots, holes and folds drawn
// into a texture web with exact masks. Internal to prn-data; shared by the
// dataset writer (write_linescan_dataset) and render_linescan_web.
#pragma once

#include "data/rng.h"

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prn::data::detail {

// How defects look on a web: their strength follows the texture's contrast,
// c = clamp(0.07 + 0.5 sd, 0.09, 0.2) (sd: the web's grey standard deviation);
// a grey web gets grey stains; mean: its mean colour. Shared by the dataset
// generator and render_linescan_web.
struct DefectStyle {
  double contrast = 0.1;
  bool grey = true;
  cv::Scalar mean;
};

DefectStyle defect_style(const cv::Mat &web);

// Plants one defect of `kind` into the inner box (tile/8 margin) of `cell`, a
// tile x tile square of the texture web (RGB float). Its mask is labelled `id`
// in `labels` (CV_16U, when not empty). Returns the mask's bounding box in web
// coordinates and its pixel count.
std::pair<cv::Rect, int> plant_in_cell(const std::string &kind, cv::Mat &web, const cv::Rect &cell, int64_t tile,
                                       Rng &rng, const DefectStyle &style, cv::Mat labels, int id);

// Throws prn::Error for an unknown or repeated kind (scratch, spot, hole, fold).
void check_kinds(const std::vector<std::string> &kinds);

} // namespace prn::data::detail
