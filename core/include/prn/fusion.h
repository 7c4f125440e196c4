// prnanomaly core: HRNet-style multi-scale fusion.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>

namespace prn {

using Scales = std::array<torch::Tensor, 3>;

// Exchange between three scales (sides H, H/2, H/4; channels C, 2C, 4C): output
// scale j = x_j + sum over i != j of x_i resampled to scale j. Finer to coarser:
// one grouped strided conv (kernel f+1, stride f, groups = C_i; f = 2 or 4).
// Coarser to finer: a 1x1 conv C_i -> C_j, then bilinear upsampling (the two
// commute, so the conv runs at the coarse size). No norm, no activation.
class MultiScaleFusionImpl : public torch::nn::Module {
public:
  explicit MultiScaleFusionImpl(std::array<int64_t, 3> channels);
  Scales forward(const Scales &x);

private:
  std::array<int64_t, 3> channels_;
  // resample_[i][j]: the conv taking scale i to scale j (nullptr on the diagonal).
  std::vector<std::vector<torch::nn::Conv2d>> resample_;
};
TORCH_MODULE(MultiScaleFusion);

} // namespace prn
