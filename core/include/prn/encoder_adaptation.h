// prnanomaly core: adapting a randomly initialised encoder to the user's data,
// the fallback when no ImageNet weights are given (docs/training.md, "Without
// ImageNet weights").
#pragma once

#include "prn/encoder.h"
#include "prn/reducer.h"
#include "prn/train_step.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace prn {

// A small segmentation head on the encoder's three maps, used only while the
// encoder adapts and discarded afterwards: layer2 and layer3 resampled to
// layer1's size and concatenated (64 + 128 + 256 channels), a 3x3 conv to
// `hidden` channels with BatchNorm and ReLU, a 1x1 conv to one logit, resampled
// to the input size.
class AdaptationHeadImpl : public torch::nn::Module {
public:
  explicit AdaptationHeadImpl(int64_t hidden = 64);
  torch::Tensor forward(const std::array<torch::Tensor, 3> &features, int64_t output_size);

private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(AdaptationHead);

struct AdaptationOptions {
  int64_t steps = 300;
  double lr = 1e-3;          // Adam
  double weight_decay = 0.0; // Adam's (L2) weight decay
  // The PRN loss: smooth-L1 + lambda * focal(alpha, gamma).
  double focal_alpha = 0.5, focal_gamma = 4.0, loss_lambda = 5.0;
  uint64_t seed = 0; // the head's initialisation
};

// Trains `encoder` (randomly initialised, its BatchNorm statistics fitted) with
// an AdaptationHead to segment the anomalies of the training batches (the same
// normal / extended / simulated batches PRN trains on; next_batch() returns
// images (B,3,S,S) in [0,1] and masks (B,1,S,S) on the encoder's device), so
// that its features respond to the user's defects instead of being random
// projections. Afterwards the encoder is frozen again (set_trainable(false));
// the caller then refits its BatchNorm statistics on normal images
// (Encoder::fit_batchnorm) and fits the prototypes on the adapted features.
// Data parallel: with a `reducer` of world size > 1 the gradients are averaged
// over the processes (each passes its share of the batch), as prn::train_step
// does; the encoder's BatchNorm is not synchronised, so broadcast the encoder
// from one rank afterwards. on_step(step, losses) after every step (1-based);
// returning false stops early (the encoder is frozen as it is). Throws
// prn::Error on a non-finite loss.
void adapt_encoder(EncoderImpl &encoder, const std::function<std::pair<torch::Tensor, torch::Tensor>()> &next_batch,
                   const AdaptationOptions &options, Reducer *reducer = nullptr,
                   const std::function<bool(int64_t, const StepLosses &)> &on_step = {});

} // namespace prn
