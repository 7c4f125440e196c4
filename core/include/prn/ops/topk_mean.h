// prnanomaly op: the image score, the mean of the top-k pixel scores.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace prn::ops {

// maps: (B, 1, H, W) or (B, H, W) float32 with H * W >= 1; k >= 1, clamped to
// H * W. Returns (B) float32 on the maps' device: the mean of the k largest
// pixel scores of each map (ties: as many copies of the k-th value as needed;
// NaN counts as the largest value, as in at::topk, so a NaN in the top k gives
// NaN). Sums in double. Not differentiable. CPU, or a CUDA kernel when built
// with one (else ATen's topk on the maps' device).
at::Tensor topk_mean(const at::Tensor &maps, int64_t k);

} // namespace prn::ops
