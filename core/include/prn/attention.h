// prnanomaly core: multi-size self-attention.
#pragma once

#include "prn/batchnorm.h"
#include "prn/conv_bn_fold.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace prn {

// One block at one scale (C channels, side `size`). For each patch divisor d the
// map is cut into d x d patches of side p = size / d; a token is a flattened
// C*p*p patch. q, k, v are element-wise affine maps of the tokens (one weight
// and bias per element of a patch, shared by all patches); single-head scaled
// dot-product attention among the d*d tokens (d = 1, a single token, reduces to
// the value map: that branch has no q/k parameters). The branch outputs are
// concatenated (len(divisors) * C channels) and reduced back to C by a residual
// conv block: conv3x3-BN-ReLU-conv3x3-BN plus a 1x1 conv shortcut, then ReLU.
class MultiSizeAttentionBlockImpl : public torch::nn::Module {
public:
  MultiSizeAttentionBlockImpl(int64_t channels, int64_t size, std::vector<int64_t> divisors);
  // In eval mode without autograd (torch::InferenceMode, NoGradGuard) a fast
  // path runs: equal up to float rounding (see attention.cpp).
  torch::Tensor forward(const torch::Tensor &x);
  // Also frees the fast path's folded weights when training starts.
  void train(bool on = true) override;

  int64_t channels() const { return channels_; }

private:
  void branch(const torch::Tensor &x, size_t i, torch::Tensor out);
  void branch_inference(const torch::Tensor &x, size_t i, torch::Tensor out);
  torch::Tensor forward_inference(const torch::Tensor &x);

  int64_t channels_, size_;
  std::vector<int64_t> divisors_;
  // Per branch: weights/biases (1, C, p, p) of q, k, v (undefined q/k when d = 1).
  std::vector<std::array<torch::Tensor, 6>> qkv_;
  torch::nn::Conv2d reduce1{nullptr}, reduce2{nullptr}, shortcut{nullptr};
  SyncableBatchNorm2d bn1{nullptr}, bn2{nullptr};
  ConvBnFold fold1_, fold2_;
};
TORCH_MODULE(MultiSizeAttentionBlock);

} // namespace prn
