// prnanomaly core: the inference fast path's conv + BatchNorm folding.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>

namespace prn {

// Whether inference-only shortcuts may replace the plain ops for input `x`:
// autograd records nothing (grad mode off: torch::InferenceMode, NoGradGuard)
// and autocast is off for x's device type. Modules add their own condition
// (eval mode) on top.
bool inference_fast_path(const torch::Tensor &x);

// The algorithm of the fast path's 3x3 convolutions on the CPU. `automatic`:
// Winograd F(4x4, 3x3) (prn::ops::winograd_conv3x3) where it applies and was
// measured faster (prn::ops::winograd_applies), oneDNN's direct convolution
// elsewhere; `direct`: always the direct convolution (bit-for-bit what the
// project computed before Winograd, for comparisons and benchmarks).
enum class ConvAlgorithm { automatic, direct };

// Sets the conv algorithm for this thread for the guard's lifetime (like
// torch::InferenceMode; nested guards restore the previous choice).
class ConvAlgorithmGuard {
public:
  explicit ConvAlgorithmGuard(ConvAlgorithm algorithm);
  ~ConvAlgorithmGuard();
  ConvAlgorithmGuard(const ConvAlgorithmGuard &) = delete;
  ConvAlgorithmGuard &operator=(const ConvAlgorithmGuard &) = delete;

  // This thread's current choice (`automatic` unless a guard is alive).
  static ConvAlgorithm current();

private:
  ConvAlgorithm previous_;
};

// An eval-mode BatchNorm folded into the convolution in front of it:
//   W' = W * gamma / sqrt(var + eps),  b' = beta + (b - mean) * gamma / sqrt(var + eps)
// per output channel, so conv -> BN costs one conv. The folded weight and bias
// are computed on first use and cached; the cache is rebuilt whenever a source
// tensor (conv weight and bias, BN weight, bias, running mean and variance) was
// modified in place (its version counter moved: optimiser steps, running-stat
// updates, copy_ when a model file is loaded), replaced (another storage:
// Module::to, set_data) or the BN eps changed, so it never serves stale
// weights. The model's parameters, buffers and files are untouched.
class ConvBnFold {
public:
  ConvBnFold();

  // conv(x) then bn, folded, when the fold applies (by Winograd under
  // ConvAlgorithm::automatic where it applies, the transformed weights cached
  // with the folded ones): bn in eval mode with
  // running statistics, inference_fast_path(x), zero padding given as numbers,
  // floating-point tensors on x's device and no parameter an inference tensor
  // (their in-place changes could not be detected). nullopt otherwise: the
  // caller runs its modules as usual.
  std::optional<torch::Tensor> apply(torch::nn::Conv2dImpl &conv, torch::nn::BatchNorm2dImpl &bn,
                                     const torch::Tensor &x);

  // Frees the cached folded weights (rebuilt on the next apply).
  void clear();
  // Whether folded weights are cached now (for tests).
  bool cached() const;
  // How many times folded weights were computed (for tests).
  int64_t builds() const;

private:
  struct State;
  std::shared_ptr<State> state_;
};

} // namespace prn
