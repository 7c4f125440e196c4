// prnanomaly augment: DRAEM's Perlin-noise anomaly masks.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <cstdint>

namespace prn::augment {

// 2-D Perlin noise (h, w) float32 on a lattice of scale_y x scale_x cells:
// random unit gradients on the (scale_y+1) x (scale_x+1) corners, fade
// 6t^5 - 15t^4 + 10t^3, scaled by sqrt(2), so values lie in [-1, 1]. Pixel
// (y, x) sits at lattice point (y scale_y / h, x scale_x / w) as in DRAEM (any
// size; DRAEM needs sizes divisible by the scales). Deterministic for the
// generator; CPU tensor; throws prn::Error for a non-positive size or scale.
torch::Tensor perlin_noise(int64_t h, int64_t w, int64_t scale_y, int64_t scale_x, at::Generator &gen);

// DRAEM's anomaly mask (1, h, w) float32 in {0, 1}: Perlin noise with lattice
// scales 2^a x 2^b, a, b uniform integers in [0, 6), rotated by a uniform angle
// in [-90, 90] degrees about the centre (bilinear, zeros outside, as imgaug's
// Affine), thresholded at `threshold` (noise > threshold). Redrawn (up to 8
// draws) when empty, so callers get a non-empty mask unless the draws keep
// failing. A few milliseconds at 256x256 on one thread.
torch::Tensor perlin_mask(int64_t h, int64_t w, at::Generator &gen, double threshold = 0.5);

} // namespace prn::augment
