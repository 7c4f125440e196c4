// prnanomaly augment: extended anomalies (seen defect regions on normal images).
#pragma once

#include "prn/augment/simulated.h"

#include <ATen/core/Generator.h>
#include <torch/torch.h>

namespace prn::augment {

// What extend_anomaly draws; every probability in [0, 1].
struct ExtendedOptions {
  double p_flip = 0.5;       // each of horizontal / vertical flips (exact)
  double p_rot90 = 0.5;      // a quarter, half or three-quarter turn (exact)
  double scale_min = 0.75, scale_max = 1.25; // uniform scale, 0 < min <= max
  double rotate_deg = 45.0;  // uniform in [-rotate_deg, rotate_deg]
  double shift = 0.25;       // offset from the seen position, up to shift x the side per axis (>= 1: anywhere)
  double brightness = 0.2;   // factor uniform in [1 - b, 1 + b]; 0 = off
  double contrast = 0.2;     // factor uniform in [1 - c, 1 + c] about the region's mean grey; 0 = off
  double hue = 0.05;         // hue shift uniform in [-hue, hue] of a turn; 0 = off
  double p_blur = 0.2;       // Gaussian blur, sigma 0.5-1.5 px, within the region
  double p_noise = 0.2;      // Gaussian noise, sd 0.01-0.05
  double p_grid = 0.1;       // grid distortion (5 cells per axis, each stretched by 1 +- 0.3)
  double p_elastic = 0.2;    // elastic distortion (smooth field, 2-5 % of the region's size)
};

// Cuts the masked region of a seen anomaly (image (3, h, w), mask (1, h, w);
// any size) and pastes it, augmented, onto `normal` (3, H, W):
// - geometry: flips and quarter turns (exact), then one bilinear resampling
//   through scale, rotation and grid / elastic distortion; the mask follows
//   every step (the same sampling grid, thresholded at 0.5). Colours are
//   resampled normalised by the mask, so only defect pixels are pasted, never
//   the seen image's background around them;
// - photometric: brightness, contrast, hue, then blur and noise, inside the region;
// - placement: uniform among the positions within `shift` of the side from
//   the seen region's position (scaled to H x W) that keep the region inside
//   the image where it fits (shift 0: the seen position). With a
//   foreground (1, H, W) mask, up to 10 shifts are tried for one that puts at
//   least half of the region on the foreground, and the pasted region is
//   restricted to it.
// The returned image equals `normal` exactly outside the returned mask, which
// is exactly the pasted pixels: empty when the seen mask is empty or the
// region misses the foreground. Deterministic for the generator; throws
// prn::Error for bad shapes, dtypes (float32) or options. About 1-2 ms at
// 256x256 on one thread.
Synthesised extend_anomaly(const torch::Tensor &normal, const torch::Tensor &anomaly_image,
                           const torch::Tensor &anomaly_mask, at::Generator &gen,
                           const ExtendedOptions &options = {}, const torch::Tensor &foreground = {});

} // namespace prn::augment
