// Helpers shared by the anomaly-synthesis tests (test_augment*.cpp).
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>

namespace prn::test {

inline at::Generator gen(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// A (3, h, w) float32 image of uniform noise in [0, 1) drawn from `seed`.
inline torch::Tensor random_image(int64_t h, int64_t w, uint64_t seed) {
  auto g = gen(seed);
  return at::rand({3, h, w}, g, torch::kFloat32);
}

inline bool is_binary(const torch::Tensor &m) { return ((m == 0) | (m == 1)).all().item<bool>(); }

inline double max_abs(const torch::Tensor &a) { return a.abs().max().item<double>(); }

} // namespace prn::test
