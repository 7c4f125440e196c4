// prnanomaly core: the Prototypical Residual Network.
#pragma once

#include "prn/attention.h"
#include "prn/config.h"
#include "prn/decoder.h"
#include "prn/encoder.h"
#include "prn/fusion.h"

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace prn {

// How much of the input the model checks before a call. Values looks at the
// values too (NaN, Inf): that waits for the device, which a CUDA graph capture
// must not do, so a caller that checked them itself may skip it with Shape.
enum class InputCheck { Values, Shape };

// Every intermediate of one forward pass, for inspection and tests.
struct ForwardTrace {
  Scales features;  // encoder layers 1-3
  Scales residuals; // (F - P*)^2 per scale
  std::array<torch::Tensor, 3> nearest; // index of P* per image, per scale
  Scales fused;     // cat(fusion(features), fusion(residuals)) [+ 1x1 projection]
  Scales attended;  // after the multi-size self-attention blocks
  Scales refused;   // after the second fusion
  torch::Tensor logits; // (B, 1, S, S)
};

// image (B,3,S,S) in [0,1] -> frozen ResNet-18 layers 1-3 -> per-scale residual
// to the nearest prototype -> shared fusion of features and of residuals,
// concatenated -> multi-size self-attention -> fusion -> U-Net-like decoder ->
// logits (B,1,S,S); anomaly map = sigmoid(logits). S = config.input_size.
class PrnModelImpl : public torch::nn::Module {
public:
  // Builds the network for a validated config; trainable weights are
  // initialised from `seed` (the encoder too, until weights are loaded).
  explicit PrnModelImpl(ModelConfig config, uint64_t seed = 0);

  const ModelConfig &config() const { return config_; }
  // Changes the map smoothing only (post-processing: the network stays as it
  // is). Throws prn::Error on a sigma outside [0, input_size].
  void set_map_sigma(double sigma);
  Encoder &encoder() { return encoder_; }

  // Re-initialises every trainable weight (and the encoder) from a seed.
  void reset_parameters(uint64_t seed);

  // Prototypes: (K, C_s, H_s, W_s) per scale, fixed buffers saved with the model.
  bool has_prototypes() const { return prototypes_[0].size(0) > 0; }
  int64_t num_prototypes() const { return prototypes_[0].size(0); }
  void set_prototypes(const Scales &prototypes);
  const Scales &prototypes() const { return prototypes_; }
  // k-means on the encoder features of normal images (N,3,S,S); K from the
  // config (ratio or fixed count), `batch` images per encoder pass.
  void fit_prototypes(const torch::Tensor &normal_images, uint64_t seed, int64_t batch = 16);

  // Logits (B, 1, S, S). Throws prn::Error on bad input (shape, dtype, device,
  // non-finite values) or when prototypes are not fitted.
  // Inference fast path: in eval mode without autograd and autocast (e.g. eval()
  // then torch::InferenceMode, or anomaly_map) every BatchNorm is folded into
  // its conv (prn::ConvBnFold, cached and rebuilt whenever a weight or statistic
  // changes), all maps stay channels-last and activations run in place; the
  // result equals the plain forward up to float rounding; on CPU a batch of
  // more than 8 images runs 8 at a time (the images are independent in eval
  // mode; larger batches overflow the caches: light at 32 tiles ran 15% slower
  // per tile than at 8). Training mode or autograd always runs the plain modules.
  torch::Tensor forward(const torch::Tensor &images);
  ForwardTrace trace(const torch::Tensor &images);
  // sigmoid(logits) without autograd: pixel anomaly scores in [0, 1], smoothed
  // by prn::smooth_maps when config().map_sigma > 0.
  torch::Tensor anomaly_map(const torch::Tensor &images, InputCheck check = InputCheck::Values);

  // The parameters an optimiser updates (everything but the encoder).
  std::vector<torch::Tensor> trainable_parameters();

  // Throws prn::Error naming what is wrong: shape, dtype, device, emptiness and,
  // with InputCheck::Values, NaN or Inf.
  void check_input(const torch::Tensor &images, InputCheck check = InputCheck::Values) const;

private:
  ForwardTrace run(const torch::Tensor &images, bool keep, InputCheck check = InputCheck::Values);
  torch::Tensor logits(const torch::Tensor &images, InputCheck check);

  ModelConfig config_;
  Encoder encoder_{nullptr};
  Scales prototypes_;
  MultiScaleFusion fusion_in_{nullptr}, fusion_out_{nullptr};
  std::array<torch::nn::Conv2d, 3> projection_{nullptr, nullptr, nullptr};
  std::array<torch::nn::Sequential, 3> attention_{nullptr, nullptr, nullptr};
  Decoder decoder_{nullptr};
};
TORCH_MODULE(PrnModel);

} // namespace prn
