// prnanomaly core: multi-scale prototypes (k-means centres of whole normal
// feature maps), fixed once fitted.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>

namespace prn {

struct KMeansResult {
  torch::Tensor centers;  // (K, D) float32
  torch::Tensor labels;   // (N) int64
  int64_t iterations = 0; // Lloyd iterations run
  bool converged = false; // assignments stopped changing before max_iter
  double inertia = 0.0;   // sum of squared distances to the assigned centre
};

// k-means over the rows of points (N, D) float32 on CPU: k-means++ seeding, then
// Lloyd iterations until the assignment is stable or max_iter is reached. An
// emptied cluster takes the point farthest from its centre. Deterministic for a
// seed and thread count. Throws prn::Error for k outside [1, N] or bad input.
KMeansResult kmeans(const torch::Tensor &points, int64_t k, int64_t max_iter, uint64_t seed);

// Prototypes per scale for n normal images: fixed > 0 ? fixed : max(1, round(ratio * n)),
// never more than n.
int64_t prototype_count(int64_t num_normal, double ratio, int64_t fixed);

// Per scale, k-means over the flattened maps of features[s] (N, C, H, W);
// returns the centres reshaped to (K, C, H, W). Scale s uses seed + s.
std::array<torch::Tensor, 3> fit_prototypes(const std::array<torch::Tensor, 3> &features, int64_t k,
                                            int64_t max_iter, uint64_t seed);

} // namespace prn
