// prnanomaly op: tile score maps blended back into the web's row windows.
#pragma once

#include <ATen/ATen.h>

namespace prn::ops {

// maps: (N, 1, S, S) float32 tile score maps; origins: (N, 2) int64 (row,
// column) of each tile's top-left pixel in acc coordinates (a tile may reach
// outside acc: that part is dropped); window: (T, T) float32 blending weights;
// acc, weight: (R, W) float32, updated in place. All on one device (CPU or CUDA).
//
// Each map is resized S -> T with F::interpolate's bilinear, align_corners=false,
// no antialias (a copy when S == T); then for every acc pixel a tile covers,
// acc += map * window and weight += window, tiles taken in order n = 0, 1, ...
// (the same order on every device). Blended scores are acc / weight.
void stitch_tiles_(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window, const at::Tensor &acc,
                   const at::Tensor &weight);

} // namespace prn::ops
