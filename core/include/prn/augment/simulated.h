// prnanomaly augment: simulated anomalies (DRAEM-style).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/torch.h>

namespace prn::augment {

struct Synthesised {
  torch::Tensor image; // (3, H, W) float32 in [0, 1]
  torch::Tensor mask;  // (1, H, W) float32 in {0, 1}
};

// DRAEM's augmenter set on a (3, H, W) image in [0, 1]: three augmenters drawn
// without replacement from gamma contrast (0.5-2, per channel), multiply-and-add
// brightness (x0.8-1.2, +-30/255), sharpness, hue/saturation shift (+-50/255 of a
// turn), solarize (p 0.5, threshold 32-128 of 255), posterize, invert,
// autocontrast, equalize, rotate (+-45 degrees). Output stays in [0, 1]; the
// input's shape, float32 (throws prn::Error otherwise). imgaug's 8-bit
// quantities (offsets, thresholds, histograms) are read on the 0-255 scale.
// All draws come from `gen`: deterministic for a seed. The individual
// augmenters are in core/src/augment/augmenters.h (internal).
torch::Tensor draem_augment(const torch::Tensor &image, at::Generator &gen);

// Simulated anomaly on a normal image (3, H, W): a Perlin mask M (perlin_mask)
// filled with `source` (a foreign texture, or an augmented copy of a normal
// image; (3, h, w) or (1, h, w) float32 of any size, resized bilinearly to the
// image) passed through draem_augment (giving A), blended with beta uniform in
// [0, 0.8): out = I (1 - M) + (1 - beta) A M + beta I M. Pixels outside M are
// exactly the normal image's. The mask is non-empty unless perlin_mask's
// redraws all failed.
Synthesised simulate_anomaly(const torch::Tensor &normal, const torch::Tensor &source, at::Generator &gen);

} // namespace prn::augment
