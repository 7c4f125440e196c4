// prnanomaly op: a heatmap drawn into a packed 8-bit frame with a colour map.
#pragma once

#include "prn/ops/colormap_lut.h"
#include "prn/stream/pixels.h"

#include <ATen/ATen.h>

namespace prn::ops {

struct ColormapBlendOptions {
  Colormap colormap = Colormap::Jet;
  double alpha = 0.5;     // opacity at score 1.0, in [0, 1]
  double min_score = 0.0; // raw scores below it are not drawn; >= 1: nothing is
  double scale_x = 1.0;   // frame columns per heatmap column, > 0
};

// Blends `heatmap` (h, w) float32 raw scores into `frame` in place and returns
// `frame`: (H, W, C) uint8, `format` one of RGB, BGR, RGBx, BGRx, RGBA, BGRA
// (the camera formats of prn/stream/pixels.h but grey), C its bytes per pixel,
// pixels packed (stride(2) == 1, stride(1) == C), rows at any stride (a view of
// a larger buffer is fine). Same device for both. The semantics are prnoverlay's
// (see prn/ops/colormap_blend_core.h, which is the CPU twin): frame pixel
// (x, y) reads heatmap cell (floor(x / scale_x) clamped, y or y * h / H), a score
// s >= min_score is drawn with LUT[round(t * 255)], t = min((s - min_score) /
// (1 - min_score), 1), at opacity alpha * t; index 0 and the padding or alpha
// byte are left alone. CPU, or a CUDA kernel when built with one.
at::Tensor colormap_blend_(const at::Tensor &frame, const at::Tensor &heatmap, prn::stream::PixelFormat format,
                           const ColormapBlendOptions &options = {});

} // namespace prn::ops
