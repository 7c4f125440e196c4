// prnanomaly augment (internal): affine warps and resampling with grid_sample,
// shared by DRAEM's rotate augmenter, the Perlin mask rotation and the
// extended-anomaly warp.
//
// Coordinates are pixel coordinates: x = column, y = row, pixel centres at
// integers (pixel (0,0) is the top-left pixel). A warp is given by its inverse
// map: for every output pixel q, the source point p = A q that it samples.
#pragma once

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

namespace prn::augment::detail {

// src_x = xx * x + xy * y + x0;  src_y = yx * x + yy * y + y0.
struct Affine {
  double xx = 1, xy = 0, x0 = 0;
  double yx = 0, yy = 1, y0 = 0;
};

// Inverse map of a rotation by `degrees` (counter-clockwise as displayed, y
// pointing down; +90 equals torch::rot90(img, 1, {-2, -1}) on a square image)
// and a scale by `scale`, taking the output point (out_cx, out_cy) to the
// source point (src_cx, src_cy).
inline Affine rotate_scale(double degrees, double scale, double src_cx, double src_cy, double out_cx,
                           double out_cy) {
  const double t = degrees * M_PI / 180.0;
  const double c = std::cos(t) / scale, s = std::sin(t) / scale;
  Affine a;
  a.xx = c;
  a.xy = -s;
  a.yx = s;
  a.yy = c;
  a.x0 = src_cx - c * out_cx + s * out_cy;
  a.y0 = src_cy - s * out_cx - c * out_cy;
  return a;
}

// The output pixel centres (out_h, out_w, 2) as (x, y) float32 pixel coordinates.
inline torch::Tensor pixel_grid(int64_t out_h, int64_t out_w) {
  auto ys = torch::arange(out_h, torch::kFloat32).view({out_h, 1}).expand({out_h, out_w});
  auto xs = torch::arange(out_w, torch::kFloat32).view({1, out_w}).expand({out_h, out_w});
  return torch::stack({xs, ys}, -1);
}

// Applies `a` to a (..., 2) tensor of (x, y) pixel coordinates.
inline torch::Tensor apply_affine(const Affine &a, const torch::Tensor &pts) {
  auto x = pts.select(-1, 0), y = pts.select(-1, 1);
  auto sx = x * a.xx + y * a.xy + a.x0;
  auto sy = x * a.yx + y * a.yy + a.y0;
  return torch::stack({sx, sy}, -1);
}

// Source pixel coordinates (oh, ow, 2) -> grid_sample's normalised grid
// (1, oh, ow, 2) for a (src_h, src_w) source, align_corners = false.
inline torch::Tensor normalise_grid(const torch::Tensor &src_pts, int64_t src_h, int64_t src_w) {
  auto x = (src_pts.select(-1, 0) * 2.0 + 1.0) / static_cast<double>(src_w) - 1.0;
  auto y = (src_pts.select(-1, 1) * 2.0 + 1.0) / static_cast<double>(src_h) - 1.0;
  return torch::stack({x, y}, -1).unsqueeze(0).to(torch::kFloat32);
}

// The normalised grid (1, out_h, out_w, 2) of the affine map `a` from an
// (out_h, out_w) output to an (src_h, src_w) source (one affine_grid call).
inline torch::Tensor affine_grid(const Affine &a, int64_t src_h, int64_t src_w, int64_t out_h, int64_t out_w) {
  // n = S p + t per side, S = diag(2 / W, 2 / H), t = (1 / W - 1, 1 / H - 1).
  const double sxs = 2.0 / src_w, sys = 2.0 / src_h, txs = 1.0 / src_w - 1, tys = 1.0 / src_h - 1;
  const double ixo = out_w / 2.0, iyo = out_h / 2.0, txo = 1.0 / out_w - 1, tyo = 1.0 / out_h - 1;
  // p_out = (n - t_o) * (W / 2, H / 2); p_src = M p_out + a0; n_src = S_s p_src + t_s.
  const double m00 = a.xx * ixo, m01 = a.xy * iyo, m10 = a.yx * ixo, m11 = a.yy * iyo;
  const double c0 = a.x0 - m00 * txo - m01 * tyo, c1 = a.y0 - m10 * txo - m11 * tyo;
  auto theta = torch::tensor({sxs * m00, sxs * m01, sxs * c0 + txs, sys * m10, sys * m11, sys * c1 + tys},
                             torch::kFloat32)
                   .view({1, 2, 3});
  return at::affine_grid_generator(theta, {1, 1, out_h, out_w}, /*align_corners=*/false);
}

enum class Interp : int64_t { Bilinear = 0, Nearest = 1 };
enum class Padding : int64_t { Zeros = 0, Border = 1 };

// Samples a (C, H, W) source on a normalised grid (1, oh, ow, 2): (C, oh, ow).
inline torch::Tensor sample(const torch::Tensor &src, const torch::Tensor &grid, Interp interp = Interp::Bilinear,
                            Padding padding = Padding::Zeros) {
  auto out = at::grid_sampler_2d(src.unsqueeze(0), grid.to(src.device()), static_cast<int64_t>(interp),
                                 static_cast<int64_t>(padding), /*align_corners=*/false);
  return out.squeeze(0);
}

// Rotates a (C, H, W) image about its centre by `degrees` (see rotate_scale),
// same size, bilinear, zeros outside (imgaug's Affine with cval 0).
inline torch::Tensor rotate(const torch::Tensor &img, double degrees) {
  const int64_t h = img.size(-2), w = img.size(-1);
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  return sample(img, affine_grid(rotate_scale(degrees, 1.0, cx, cy, cx, cy), h, w, h, w));
}

} // namespace prn::augment::detail
