// prnanomaly core: a generator of textured images with planted defects, for
// tests and self-checks (no files needed).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace prn {

enum class DefectKind { Scratch, Spot, Hole };

// Parses "scratch", "spot", "hole"; throws prn::Error otherwise.
DefectKind defect_kind_from_string(const std::string &name);
const char *to_string(DefectKind kind);

struct SyntheticBatch {
  torch::Tensor images; // (N, 3, S, S) float32 in [0, 1]
  torch::Tensor masks;  // (N, 1, S, S) float32, 1 on defect pixels
};

// A woven/grainy texture family (oriented gratings plus band-limited noise with a
// colour tint, each image with its own phases and noise) and three defect kinds:
// thin straight scratches, elliptical stains and dark holes. Deterministic for a
// seed: the same calls give the same images.
class SyntheticTextures {
public:
  SyntheticTextures(int64_t size, uint64_t seed);

  torch::Tensor normal_images(int64_t n);
  // n images, each with one defect of `kind`; masks mark the defect.
  SyntheticBatch defective_images(int64_t n, DefectKind kind);

  int64_t size() const { return size_; }

private:
  torch::Tensor texture();
  torch::Tensor defect_mask(DefectKind kind);
  double uniform(double lo, double hi);

  int64_t size_;
  at::Generator gen_;
  torch::Tensor yy_, xx_; // pixel coordinates (S, S)
};

} // namespace prn
