// prnanomaly core: the frozen ResNet-18 encoder (layers 1-3).
#pragma once

#include "prn/conv_bn_fold.h"

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>

namespace prn {

// ResNet-18 stem and layers 1-3 with torchvision's parameter names, so a
// torchvision resnet18 state dict loads key for key. Frozen: no parameter
// requires grad, the module stays in eval mode whatever train() is asked (its
// BatchNorm statistics never move), and forward runs without autograd.
// Input: (B, 3, H, W) float32 RGB in [0, 1]; ImageNet normalisation is applied
// inside. Output: layer1..3 maps, (B,64,H/4,W/4), (B,128,H/8,W/8), (B,256,H/16,W/16).
class EncoderImpl : public torch::nn::Module {
public:
  EncoderImpl();

  // fold_batchnorm: the inference fast path, every BatchNorm folded into its
  // conv (ConvBnFold: cached, rebuilt when a weight or statistic changes) and
  // the ReLUs in place. Equal to the plain forward up to float rounding; the
  // plain forward runs where a fold does not apply (autocast, fit_batchnorm).
  std::array<torch::Tensor, 3> forward(const torch::Tensor &images, bool fold_batchnorm = false);

  // Kaiming-normal convs and unit BatchNorm as torchvision initialises them,
  // from a seed: the documented fallback when no ImageNet weights are given,
  // and the weights tests make for themselves.
  void reset_parameters(uint64_t seed);

  // The fallback's data-dependent initialisation: re-estimates every BatchNorm's
  // running mean and variance as the plain average over `images` (N, 3, H, W)
  // in batches of `batch`, so each channel of each layer is standardised on the
  // user's normal images instead of keeping torchvision's initial 0 / 1. Only
  // for a randomly initialised encoder: ImageNet statistics must not be replaced.
  // The encoder is frozen again (eval mode) afterwards.
  void fit_batchnorm(const torch::Tensor &images, int64_t batch = 16);

  // Loads torchvision's resnet18 state dict file (torch.save zip archive).
  // fc.* and layer4.* are ignored; any other missing, unexpected or
  // mismatched key throws prn::Error listing them with their shapes.
  void load_torchvision(const std::string &path);

  // Always stays in eval mode while frozen. Frees the folded weights of the fast path.
  void train(bool on = true) override;

  // The fallback without ImageNet weights adapts the encoder to the user's
  // data before anything else (prn::adapt_encoder, docs/training.md "Without
  // ImageNet weights"). While trainable, the parameters require grad, train()
  // switches BatchNorm to batch statistics and forward() records autograd (the
  // fast path is off). set_trainable(false) freezes it again (eval mode,
  // parameters without grad): every other use of the encoder sees it frozen.
  void set_trainable(bool on);
  bool trainable() const { return trainable_; }
  void clear_folds();

  // Names of the parameters/buffers a torchvision file must provide.
  std::vector<std::string> torchvision_keys() const;

private:
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr};
  torch::Tensor mean_, std_;
  ConvBnFold stem_fold_;
  bool trainable_ = false;
};
TORCH_MODULE(Encoder);

} // namespace prn
