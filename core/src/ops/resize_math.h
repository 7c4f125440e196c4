// Index and weight arithmetic of ATen's bilinear resizes (align_corners=false),
// shared by the CPU and CUDA kernels of the tile ops so both compute the same
// taps (internal). Mirrors aten/src/ATen/native/UpSample.h and
// cpu/UpSampleKernel.cpp for float32, float/double promotions included.
#pragma once

#include <c10/macros/Macros.h>

#include <cmath>
#include <cstdint>

namespace prn::ops::detail {

// Plain bilinear (F::interpolate bilinear, antialias off): output index i reads
// input i0 with weight l0 and i1 with weight l1.
struct LinearTap {
  int64_t i0, i1;
  float l0, l1;
};

// area_pixel_compute_scale<float>: input / output when no scale factor is given.
C10_HOST_DEVICE inline float resize_scale(int64_t in_size, int64_t out_size) {
  return static_cast<float>(in_size) / static_cast<float>(out_size);
}

// area_pixel_compute_source_index + guard_index_and_lambda.
C10_HOST_DEVICE inline LinearTap linear_tap(int64_t i, int64_t in_size, float scale) {
  float src = scale * (static_cast<float>(i) + 0.5f) - 0.5f;
  if (src < 0.f)
    src = 0.f;
  int64_t i0 = static_cast<int64_t>(::floorf(src));
  if (i0 > in_size - 1)
    i0 = in_size - 1;
  float l1 = src - static_cast<float>(i0);
  l1 = l1 < 0.f ? 0.f : (l1 > 1.f ? 1.f : l1);
  return {i0, i0 + (i0 < in_size - 1 ? 1 : 0), 1.f - l1, l1};
}

// ATen's order of the four products (Interpolate<2>: rows outside, columns inside).
C10_HOST_DEVICE inline float bilinear(const float *map, int64_t side, const LinearTap &y, const LinearTap &x) {
  const float *r0 = map + y.i0 * side, *r1 = map + y.i1 * side;
  return (r0[x.i0] * x.l0 + r0[x.i1] * x.l1) * y.l0 + (r1[x.i0] * x.l0 + r1[x.i1] * x.l1) * y.l1;
}

// Antialiased bilinear (F::interpolate bilinear, antialias on): a triangle
// filter stretched by the scale when shrinking, normalised at the borders.
struct AaParams {
  float scale, support, invscale;
  int64_t max_taps;
};

inline AaParams aa_params(int64_t in_size, int64_t out_size) {
  AaParams p;
  p.scale = resize_scale(in_size, out_size);
  p.support = static_cast<float>(p.scale >= 1.0 ? (2 * 0.5) * p.scale : 2 * 0.5); // interp_size 2
  p.invscale = static_cast<float>(p.scale >= 1.0 ? 1.0 / p.scale : 1.0);
  p.max_taps = static_cast<int64_t>(std::ceil(p.support)) * 2 + 1;
  return p;
}

C10_HOST_DEVICE inline float aa_triangle(float x) {
  x = x < 0.f ? -x : x;
  return x < 1.0 ? static_cast<float>(1.0 - x) : 0.f;
}

// _compute_indices_min_size_weights_aa: output index i reads inputs
// [xmin, xmin + returned size) with weights w[0..size), which sum to 1.
C10_HOST_DEVICE inline int64_t aa_weights(int64_t i, int64_t in_size, const AaParams &p, float *w, int64_t &xmin) {
  const float center = static_cast<float>(p.scale * (i + 0.5));
  xmin = static_cast<int64_t>(center - p.support + 0.5);
  if (xmin < 0)
    xmin = 0;
  int64_t xmax = static_cast<int64_t>(center + p.support + 0.5);
  if (xmax > in_size)
    xmax = in_size;
  int64_t xsize = xmax - xmin;
  xsize = xsize < 0 ? 0 : (xsize > p.max_taps ? p.max_taps : xsize);
  float total = 0.f;
  for (int64_t j = 0; j < xsize; ++j) {
    w[j] = aa_triangle(static_cast<float>((static_cast<float>(j + xmin) - center + 0.5) * p.invscale));
    total += w[j];
  }
  if (total != 0.f)
    for (int64_t j = 0; j < xsize; ++j)
      w[j] /= total;
  return xsize;
}

C10_HOST_DEVICE inline int64_t clamp_index(int64_t i, int64_t size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

} // namespace prn::ops::detail
