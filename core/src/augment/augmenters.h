// prnanomaly augment (internal): random draws, colour conversions, DRAEM's
// individual augmenters and traced variants of the public functions, exposed
// for the tests. Images are (3, H, W) float32 in [0, 1].
#pragma once

#include "prn/augment/simulated.h"

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <array>
#include <cstdint>

namespace prn::augment::detail {

// ---- random draws, all from the caller's generator --------------------------

// Uniform in [lo, hi).
inline double uniform(at::Generator &gen, double lo, double hi) {
  return lo + (hi - lo) * at::rand({1}, gen, torch::kFloat64).item<double>();
}
// Uniform integer in [lo, hi).
inline int64_t randint(at::Generator &gen, int64_t lo, int64_t hi) {
  return at::randint(lo, hi, {1}, gen, torch::kInt64).item<int64_t>();
}
// True with probability p.
inline bool bernoulli(at::Generator &gen, double p) { return p > 0 && uniform(gen, 0, 1) < p; }

// Checks a (3, H, W) float32 image; `what` names it in the message.
void check_image(const torch::Tensor &img, const char *what);
// Checks a (1, H, W) float32 mask of the given size.
void check_mask(const torch::Tensor &mask, int64_t h, int64_t w, const char *what);

// ---- colour -----------------------------------------------------------------

// (3, H, W) RGB in [0, 1] <-> HSV, hue in turns [0, 1), saturation and value in [0, 1].
torch::Tensor rgb_to_hsv(const torch::Tensor &rgb);
torch::Tensor hsv_to_rgb(const torch::Tensor &hsv);
// Adds `hue_turns` to the hue (mod 1) and `sat_add` to the saturation (clamped).
torch::Tensor shift_hue_saturation(const torch::Tensor &img, double hue_turns, double sat_add);

// ---- DRAEM's augmenters, each with its parameters given ---------------------

torch::Tensor gamma_contrast(const torch::Tensor &img, const std::array<double, 3> &gammas); // x^gamma per channel
torch::Tensor multiply_add_brightness(const torch::Tensor &img, double mul, double add); // on luma Y
torch::Tensor sharpness(const torch::Tensor &img, double factor);     // PIL ImageEnhance.Sharpness
torch::Tensor solarize(const torch::Tensor &img, double threshold);   // x >= threshold -> 1 - x
torch::Tensor posterize(const torch::Tensor &img, int64_t bits);      // keeps the top `bits` of 8
torch::Tensor invert(const torch::Tensor &img);                       // 1 - x
torch::Tensor autocontrast(const torch::Tensor &img, double cutoff);  // PIL, cutoff percent per end
torch::Tensor equalize(const torch::Tensor &img);                     // PIL, per channel
// (rotate is detail::rotate in augment/geometry.h.)

// Quantises to 8-bit levels 0..255 as int64, as PIL sees a float image.
torch::Tensor to_levels(const torch::Tensor &img);

inline constexpr int kDraemAugmenters = 10;
// Names in DRAEM's order: gamma, brightness, sharpness, hue_saturation,
// solarize, posterize, invert, autocontrast, equalize, rotate.
const char *draem_augmenter_name(int index);
// Applies augmenter `index`, drawing its parameters from `gen` as DRAEM does.
torch::Tensor apply_draem_augmenter(int index, const torch::Tensor &img, at::Generator &gen);
// draem_augment, also reporting the three augmenters it applied, in order.
torch::Tensor draem_augment_traced(const torch::Tensor &image, at::Generator &gen, std::array<int, 3> *chosen);

// ---- traced variants --------------------------------------------------------

struct PerlinTrace {
  int64_t scale_y = 0, scale_x = 0; // lattice cells
  double angle = 0;                 // degrees, rotate()'s convention
  torch::Tensor noise;              // (h, w) before rotation
  torch::Tensor rotated;            // (h, w) after rotation
  torch::Tensor mask;               // (1, h, w) = rotated > threshold
  int attempts = 0;                 // draws made (> 1 when an empty mask was redrawn)
};
PerlinTrace perlin_mask_traced(int64_t h, int64_t w, at::Generator &gen, double threshold);

// Perlin noise from given gradient angles (scale_y + 1, scale_x + 1), radians.
torch::Tensor perlin_noise_from_angles(int64_t h, int64_t w, const torch::Tensor &angles);

struct SimulatedTrace {
  Synthesised out;
  torch::Tensor augmented; // the resized, augmented source A
  double beta = 0;
};
SimulatedTrace simulate_anomaly_traced(const torch::Tensor &normal, const torch::Tensor &source,
                                       at::Generator &gen);

} // namespace prn::augment::detail
