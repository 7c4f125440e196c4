// DRAEM's Perlin noise and anomaly masks, vectorised with torch ops.
#include "prn/augment/perlin.h"

#include "augment/augmenters.h"
#include "augment/geometry.h"
#include "prn/error.h"

#include <cmath>

namespace prn::augment {
namespace detail {

torch::Tensor perlin_noise_from_angles(int64_t h, int64_t w, const torch::Tensor &angles) {
  PRN_CHECK(h > 0 && w > 0, "perlin_noise: expected a positive size, got ", h, "x", w);
  PRN_CHECK(angles.dim() == 2 && angles.size(0) >= 2 && angles.size(1) >= 2,
            "perlin_noise: expected gradient angles (scale_y + 1, scale_x + 1) with scales >= 1, got ",
            angles.sizes());
  const int64_t sy = angles.size(0) - 1, sx = angles.size(1) - 1;
  auto a = angles.to(torch::kFloat32).cpu();
  auto gy = torch::cos(a), gx = torch::sin(a); // DRAEM: gradients (cos, sin) along (rows, columns)

  // Lattice coordinate of each row / column: u = i * scale / size (DRAEM's mgrid).
  auto u = torch::arange(h, torch::kFloat64) * (static_cast<double>(sy) / h);
  auto v = torch::arange(w, torch::kFloat64) * (static_cast<double>(sx) / w);
  auto iy = u.floor().to(torch::kInt64).clamp(0, sy - 1);
  auto ix = v.floor().to(torch::kInt64).clamp(0, sx - 1);
  auto ty = (u - iy.to(torch::kFloat64)).to(torch::kFloat32).view({h, 1});
  auto tx = (v - ix.to(torch::kFloat64)).to(torch::kFloat32).view({1, w});

  // Gradient at corner (iy + dy, ix + dx) for every pixel, and its dot product
  // with the offset from that corner.
  auto corner = [&](int64_t dy, int64_t dx) {
    auto r = iy + dy, c = ix + dx;
    auto g0 = gy.index_select(0, r).index_select(1, c);
    auto g1 = gx.index_select(0, r).index_select(1, c);
    return g0 * (ty - static_cast<float>(dy)) + g1 * (tx - static_cast<float>(dx));
  };
  auto n00 = corner(0, 0), n10 = corner(1, 0), n01 = corner(0, 1), n11 = corner(1, 1);
  auto fade = [](const torch::Tensor &t) { return ((6 * t - 15) * t + 10) * t * t * t; };
  auto fy = fade(ty), fx = fade(tx);
  auto n0 = torch::lerp(n00, n10, fy); // along the rows, at the left corners
  auto n1 = torch::lerp(n01, n11, fy); // ... at the right corners
  return std::sqrt(2.0) * torch::lerp(n0, n1, fx);
}

PerlinTrace perlin_mask_traced(int64_t h, int64_t w, at::Generator &gen, double threshold) {
  PRN_CHECK(h > 0 && w > 0, "perlin_mask: expected a positive size, got ", h, "x", w);
  constexpr int kMaxAttempts = 8;
  PerlinTrace t;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    t.attempts = attempt;
    t.scale_y = int64_t{1} << randint(gen, 0, 6);
    t.scale_x = int64_t{1} << randint(gen, 0, 6);
    t.noise = perlin_noise(h, w, t.scale_y, t.scale_x, gen);
    t.angle = uniform(gen, -90.0, 90.0);
    t.rotated = rotate(t.noise.unsqueeze(0), t.angle).squeeze(0);
    t.mask = (t.rotated > threshold).to(torch::kFloat32).unsqueeze(0);
    if (t.mask.any().item<bool>())
      break;
  }
  return t;
}

} // namespace detail

torch::Tensor perlin_noise(int64_t h, int64_t w, int64_t scale_y, int64_t scale_x, at::Generator &gen) {
  PRN_CHECK(h > 0 && w > 0, "perlin_noise: expected a positive size, got ", h, "x", w);
  PRN_CHECK(scale_y >= 1 && scale_x >= 1, "perlin_noise: expected lattice scales >= 1, got ", scale_y, "x",
            scale_x);
  auto angles = 2 * M_PI * at::rand({scale_y + 1, scale_x + 1}, gen, torch::kFloat32);
  return detail::perlin_noise_from_angles(h, w, angles);
}

torch::Tensor perlin_mask(int64_t h, int64_t w, at::Generator &gen, double threshold) {
  return detail::perlin_mask_traced(h, w, gen, threshold).mask;
}

} // namespace prn::augment
