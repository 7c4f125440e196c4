#include "prn/attention.h"

#include "prn/error.h"

#include <cmath>

namespace prn {

namespace nn = torch::nn;

MultiSizeAttentionBlockImpl::MultiSizeAttentionBlockImpl(int64_t channels, int64_t size, std::vector<int64_t> divisors)
    : channels_(channels), size_(size), divisors_(std::move(divisors)) {
  PRN_CHECK(!divisors_.empty(), "attention: expected at least one patch divisor");
  for (size_t i = 0; i < divisors_.size(); ++i) {
    const int64_t d = divisors_[i];
    PRN_CHECK(d >= 1 && size % d == 0, "attention: patch divisor ", d, " does not divide the map side ", size);
    const int64_t p = size / d;
    std::array<torch::Tensor, 6> t;
    const char *names[6] = {"q_weight", "q_bias", "k_weight", "k_bias", "v_weight", "v_bias"};
    for (int j = 0; j < 6; ++j) {
      // Weights start near the identity map (1 + N(0, 0.02) breaks the q = k
      // symmetry), biases at 0.
      auto init = (j % 2 == 0) ? 1.0 + 0.02 * torch::randn({1, channels, p, p}) : torch::zeros({1, channels, p, p});
      t[j] = register_parameter("branch" + std::to_string(i) + "_" + names[j], init);
    }
    qkv_.push_back(t);
  }
  const int64_t cat = channels * static_cast<int64_t>(divisors_.size());
  reduce1 = register_module("reduce1", nn::Conv2d(nn::Conv2dOptions(cat, channels, 3).padding(1).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(channels));
  reduce2 = register_module("reduce2", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", nn::BatchNorm2d(channels));
  shortcut = register_module("shortcut", nn::Conv2d(nn::Conv2dOptions(cat, channels, 1).bias(false)));
}

torch::Tensor MultiSizeAttentionBlockImpl::branch(const torch::Tensor &x, size_t i) {
  const int64_t B = x.size(0), C = channels_, d = divisors_[i], p = size_ / d;
  const auto &w = qkv_[i];
  // Element-wise affine per patch element: tile the (1, C, p, p) maps d x d.
  auto affine = [&](const torch::Tensor &weight, const torch::Tensor &bias) {
    auto y = x.view({B, C, d, p, d, p}) * weight.view({1, C, 1, p, 1, p}) + bias.view({1, C, 1, p, 1, p});
    // -> tokens (B, 1 head, d*d, C*p*p)
    return y.permute({0, 2, 4, 1, 3, 5}).reshape({B, 1, d * d, C * p * p});
  };
  auto q = affine(w[0], w[1]);
  auto k = affine(w[2], w[3]);
  auto v = affine(w[4], w[5]);
  auto out = at::scaled_dot_product_attention(q, k, v); // (B, 1, d*d, C*p*p)
  return out.view({B, d, d, C, p, p}).permute({0, 3, 1, 4, 2, 5}).reshape({B, C, size_, size_});
}

torch::Tensor MultiSizeAttentionBlockImpl::forward(const torch::Tensor &x) {
  PRN_CHECK(x.dim() == 4 && x.size(1) == channels_ && x.size(2) == size_ && x.size(3) == size_,
            "attention: expected input (B, ", channels_, ", ", size_, ", ", size_, "), got ", x.sizes());
  std::vector<torch::Tensor> branches;
  branches.reserve(divisors_.size());
  for (size_t i = 0; i < divisors_.size(); ++i)
    branches.push_back(branch(x, i));
  auto cat = torch::cat(branches, 1);
  auto y = torch::relu(bn1(reduce1(cat)));
  y = bn2(reduce2(y));
  return torch::relu(y + shortcut(cat));
}

} // namespace prn
