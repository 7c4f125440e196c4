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
    // With one token (d = 1) the softmax is 1 whatever q and k are: the branch is
    // its value map alone, and q/k would be dead parameters, so it has none.
    for (int j = (d == 1 ? 4 : 0); j < 6; ++j) {
      // Weights start near the identity map (1 + N(0, 0.02) breaks the q = k
      // symmetry), biases at 0; reset_parameters of the model re-draws them.
      auto init = (j % 2 == 0) ? 1.0 + 0.02 * torch::randn({1, channels, p, p}) : torch::zeros({1, channels, p, p});
      t[j] = register_parameter("branch" + std::to_string(i) + "_" + names[j], init);
    }
    qkv_.push_back(t);
  }
  const int64_t cat = channels * static_cast<int64_t>(divisors_.size());
  reduce1 = register_module("reduce1", nn::Conv2d(nn::Conv2dOptions(cat, channels, 3).padding(1).bias(false)));
  bn1 = register_module("bn1", SyncableBatchNorm2d(channels));
  reduce2 = register_module("reduce2", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", SyncableBatchNorm2d(channels));
  shortcut = register_module("shortcut", nn::Conv2d(nn::Conv2dOptions(cat, channels, 1).bias(false)));
}

// Writes branch i's output for x into `out` (a (B, C, H, W) view).
void MultiSizeAttentionBlockImpl::branch(const torch::Tensor &x, size_t i, torch::Tensor out) {
  const int64_t B = x.size(0), C = channels_, d = divisors_[i], p = size_ / d;
  const int64_t N = d * d, D = C * p * p;
  const auto &w = qkv_[i];
  if (d == 1) {
    out.copy_(torch::addcmul(w[5], x, w[4]));
    return;
  }
  // Tokens (B, 1 head, N, D): one copy of x; a token's elements are ordered
  // (C, p, p) like the (1, C, p, p) weights, so the element-wise affine maps
  // broadcast over tokens without moving the weights.
  auto tokens = x.unflatten(2, {d, p}).unflatten(4, {d, p}).permute({0, 2, 4, 1, 3, 5}).reshape({B, 1, N, D});
  auto q = torch::addcmul(w[1].reshape({1, 1, 1, D}), tokens, w[0].reshape({1, 1, 1, D}));
  auto k = torch::addcmul(w[3].reshape({1, 1, 1, D}), tokens, w[2].reshape({1, 1, 1, D}));
  auto v = torch::addcmul(w[5].reshape({1, 1, 1, D}), tokens, w[4].reshape({1, 1, 1, D}));
  auto attended = at::scaled_dot_product_attention(q, k, v); // (B, 1, N, D)
  out.unflatten(2, {d, p}).unflatten(4, {d, p}).copy_(attended.view({B, d, d, C, p, p}).permute({0, 3, 1, 4, 2, 5}));
}

torch::Tensor MultiSizeAttentionBlockImpl::forward(const torch::Tensor &x) {
  PRN_CHECK(x.dim() == 4 && x.size(1) == channels_ && x.size(2) == size_ && x.size(3) == size_,
            "attention: expected input (B, ", channels_, ", ", size_, ", ", size_, "), got ", x.sizes());
  // Branch outputs are written straight into their channel slice of the
  // concatenation (no separate cat pass), in the input's memory format.
  const int64_t nd = static_cast<int64_t>(divisors_.size());
  auto cat = torch::empty({x.size(0), nd * channels_, size_, size_}, x.options().memory_format(x.suggest_memory_format()));
  for (size_t i = 0; i < divisors_.size(); ++i)
    branch(x, i, cat.narrow(1, static_cast<int64_t>(i) * channels_, channels_));
  auto y = torch::relu(bn1(reduce1(cat)));
  y = bn2(reduce2(y));
  return torch::relu(y + shortcut(cat));
}

} // namespace prn
