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

} // namespace prn
