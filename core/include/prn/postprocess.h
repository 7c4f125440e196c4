// prnanomaly core: from pixel scores to image scores.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace prn {

// Image score = mean of the top-k pixel scores of each map (k clamped to the
// number of pixels). maps: (B, 1, H, W) or (B, H, W), floating point (scored
// as float32). Returns (B) float32 on the maps' device, not differentiable:
// the topk_mean op (prn/ops/topk_mean.h).
torch::Tensor image_scores(const torch::Tensor &maps, int64_t k);

// Gaussian smoothing of anomaly maps, as scipy.ndimage.gaussian_filter with
// truncate=4 but mirrored at the borders without repeating the edge pixel
// (d c b | a b c d): a separable kernel of radius ceil(4 * sigma) (clamped to
// side - 1), normalised to sum 1, so a constant map stays constant. Isolated
// one-pixel peaks of a normal texture drop by about 1 / (2 pi sigma^2), a blob
// of heat wider than sigma keeps its level. maps: (B, 1, H, W) or (B, H, W),
// floating point; returns the same shape and dtype on the same device (sigma 0:
// the maps themselves). Not differentiable (scoring only).
torch::Tensor smooth_maps(const torch::Tensor &maps, double sigma);

} // namespace prn
