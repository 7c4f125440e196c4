// prnanomaly core: U-Net-like decoder to a full-resolution anomaly map.
#pragma once

#include "prn/conv_bn_fold.h"
#include "prn/fusion.h"

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace prn {

// From the coarsest scale up: at scale 2, conv3x3-BN-ReLU (C2 -> D2). Then for
// s = 1, 0: upsample x2, conv3x3-BN-ReLU (D[s+1] -> D[s]), concatenate the skip
// x[s] (C[s]), two conv3x3-BN-ReLU (-> D[s]). Last: upsample x stride (4) to
// the input side, conv3x3-BN-ReLU (D0 -> head), 1x1 conv (head -> 1): logits.
// D[s] = C[s] / 2.
class DecoderImpl : public torch::nn::Module {
public:
  DecoderImpl(std::array<int64_t, 3> channels, int64_t head_channels, int64_t output_size);
  // Returns logits (B, 1, output_size, output_size). In eval mode without
  // autograd the BatchNorms are folded into the convs (ConvBnFold) and the
  // full-resolution tail runs a few images at a time (its maps stay in cache).
  torch::Tensor forward(const Scales &x);
  // Also frees the fast path's folded weights when training starts.
  void train(bool on = true) override;

private:
  std::array<int64_t, 3> channels_;
  int64_t head_channels_;
  int64_t output_size_;
  torch::nn::Sequential bottom{nullptr};
  std::array<torch::nn::Sequential, 2> up_{nullptr, nullptr}, merge_{nullptr, nullptr};
  torch::nn::Sequential head{nullptr};
  torch::nn::Conv2d out{nullptr};
  // Folds of bottom, up0, merge0, up1, merge1, head (one per conv-BN pair).
  std::array<std::vector<ConvBnFold>, 6> folds_;

  torch::Tensor forward_inference(const Scales &x);
  // The full-resolution tail of forward_inference (upsample, head, 1x1 out).
  torch::Tensor tail_inference(const torch::Tensor &y);
};
TORCH_MODULE(Decoder);

} // namespace prn
