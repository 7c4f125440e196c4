#include "prn/attention.h"

#include "prn/conv_bn_fold.h"
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
  // (B, 1, N, D). With autograd, SDPA's math path: the scores of long tokens
  // reach 1e9 on real webs (residuals are squared features), where the fused
  // CPU kernel's backward returns NaN; the math path's softmax backward stays
  // finite. The same values up to float rounding.
  auto attended = torch::GradMode::is_enabled() && q.requires_grad()
                      ? std::get<0>(at::_scaled_dot_product_attention_math(q, k, v))
                      : at::scaled_dot_product_attention(q, k, v);
  out.unflatten(2, {d, p}).unflatten(4, {d, p}).copy_(attended.view({B, d, d, C, p, p}).permute({0, 3, 1, 4, 2, 5}));
}

// branch() for inference (no autograd): the same values up to float rounding in
// fewer, cheaper passes over the tokens.
// - Scores: with q = a*t + b, k = c*t + e, v = g*t + h (element-wise per token),
//   q_i.k_j = (ac*t_i + bc).t_j + (ae.t_i + b.e); the bracketed terms do not depend
//   on the key j and cancel in the softmax, so the scores are those of
//   q' = ac*t + bc against k = t.
// - Values: every row of the attention sums to 1, so attention(v) =
//   g * attention(t) + h, applied while writing the result into `out`.
// - Layout: a token's elements are taken in (p, p, C) order, the channels-last
//   order of x and `out`, with the weights permuted alike (the dot products and
//   element-wise maps do not depend on the order), so cutting the patches and
//   writing them back move contiguous runs of channels instead of transposing.
// One affine pass over the tokens instead of three, no separate copy back.
void MultiSizeAttentionBlockImpl::branch_inference(const torch::Tensor &x, size_t i, torch::Tensor out) {
  const int64_t B = x.size(0), C = channels_, d = divisors_[i], p = size_ / d;
  const int64_t N = d * d, D = C * p * p;
  const auto &w = qkv_[i];
  constexpr auto kCL = torch::MemoryFormat::ChannelsLast;
  if (d == 1) {
    at::addcmul_out(out, w[5].contiguous(kCL), x.contiguous(kCL), w[4].contiguous(kCL));
    return;
  }
  // (1, C, p, p) weights -> (p, p, C) order
  auto perm = [](const torch::Tensor &t) { return t.permute({0, 2, 3, 1}).contiguous(); };
  auto nhwc = x.contiguous(kCL).permute({0, 2, 3, 1}); // (B, H, W, C), contiguous
  auto tokens = nhwc.reshape({B, d, p, d, p, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B, 1, N, D});
  auto q = torch::addcmul(perm(w[1] * w[2]).view({1, 1, 1, D}), tokens, perm(w[0] * w[2]).view({1, 1, 1, D}));
  auto attended = at::scaled_dot_product_attention(q, tokens, tokens); // (B, 1, N, D)
  auto patches = out.permute({0, 2, 3, 1}).unflatten(1, {d, p}).unflatten(3, {d, p}); // (B, d, p, d, p, C) view
  at::addcmul_out(patches, perm(w[5]).view({1, 1, p, 1, p, C}),
                  attended.view({B, d, d, p, p, C}).permute({0, 1, 3, 2, 4, 5}), perm(w[4]).view({1, 1, p, 1, p, C}));
}

// forward for eval-mode inference: branch_inference, a channels-last
// concatenation (the layout of the convs, so they convert nothing), the
// BatchNorms folded into the convs (ConvBnFold), ReLUs and the residual add in place.
torch::Tensor MultiSizeAttentionBlockImpl::forward_inference(const torch::Tensor &x) {
  const int64_t nd = static_cast<int64_t>(divisors_.size());
  auto cat = torch::empty({x.size(0), nd * channels_, size_, size_},
                          x.options().memory_format(torch::MemoryFormat::ChannelsLast));
  for (size_t i = 0; i < divisors_.size(); ++i)
    branch_inference(x, i, cat.narrow(1, static_cast<int64_t>(i) * channels_, channels_));
  auto y = fold1_.apply(*reduce1, *bn1, cat);
  y = y ? y->relu_() : torch::relu(bn1(reduce1(cat)));
  auto z = fold2_.apply(*reduce2, *bn2, *y);
  if (!z)
    z = bn2(reduce2(*y));
  return z->add_(shortcut(cat)).relu_();
}

void MultiSizeAttentionBlockImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (on) { // free the fast path's folded weights until the next inference
    fold1_.clear();
    fold2_.clear();
  }
}

torch::Tensor MultiSizeAttentionBlockImpl::forward(const torch::Tensor &x) {
  PRN_CHECK(x.dim() == 4 && x.size(1) == channels_ && x.size(2) == size_ && x.size(3) == size_,
            "attention: expected input (B, ", channels_, ", ", size_, ", ", size_, "), got ", x.sizes());
  if (!is_training() && inference_fast_path(x))
    return forward_inference(x);
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
