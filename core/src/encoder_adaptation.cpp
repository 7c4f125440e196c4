#include "prn/encoder_adaptation.h"
#include "prn/error.h"
#include "prn/loss.h"

#include <cmath>

namespace prn {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

AdaptationHeadImpl::AdaptationHeadImpl(int64_t hidden) {
  PRN_CHECK(hidden >= 1, "adaptation head: expected hidden >= 1 channels, got ", hidden);
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(64 + 128 + 256, hidden, 3).padding(1).bias(false)));
  bn = register_module("bn", nn::BatchNorm2d(hidden));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(hidden, 1, 1)));
}

torch::Tensor AdaptationHeadImpl::forward(const std::array<torch::Tensor, 3> &features, int64_t output_size) {
  const auto size = std::vector<int64_t>{features[0].size(2), features[0].size(3)};
  auto up = [&](const torch::Tensor &t) {
    return F::interpolate(t, F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false));
  };
  auto x = torch::cat({features[0], up(features[1]), up(features[2])}, 1);
  x = conv2(torch::relu(bn(conv1(x))));
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{output_size, output_size})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

void adapt_encoder(EncoderImpl &encoder, const std::function<std::pair<torch::Tensor, torch::Tensor>()> &next_batch,
                   const AdaptationOptions &o, Reducer *reducer,
                   const std::function<bool(int64_t, const StepLosses &)> &on_step) {
  PRN_CHECK(o.steps >= 1, "adapt_encoder: expected steps >= 1, got ", o.steps);
  PRN_CHECK(o.lr > 0, "adapt_encoder: expected lr > 0, got ", o.lr);
  PRN_CHECK(o.weight_decay >= 0, "adapt_encoder: expected weight_decay >= 0, got ", o.weight_decay);
  PRN_CHECK(next_batch != nullptr, "adapt_encoder: expected a batch source");
  AdaptationHead head(64);
  { // torch.nn's default initialisation (uniform, bound 1/sqrt(fan_in), biases
    // too) drawn from the seed instead of the global generator; BatchNorm at 1 / 0.
    torch::NoGradGuard no_grad;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    const std::string conv_names[2] = {"conv1", "conv2"};
    for (const auto &name : conv_names) {
      auto *conv = head->named_modules()[name]->as<torch::nn::Conv2dImpl>();
      const auto &w = conv->weight;
      const double bound = 1.0 / std::sqrt(static_cast<double>(w.size(1) * w.size(2) * w.size(3)));
      w.copy_(at::rand(w.sizes(), gen, torch::kFloat32) * (2 * bound) - bound);
      if (conv->bias.defined())
        conv->bias.copy_(at::rand(conv->bias.sizes(), gen, torch::kFloat32) * (2 * bound) - bound);
    }
  }
  const auto device = encoder.parameters().front().device();
  head->to(device);
  encoder.set_trainable(true);
  std::vector<torch::Tensor> params = encoder.parameters();
  for (auto &p : head->parameters())
    params.push_back(p);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  encoder.train(true);
  head->train(true);
  try {
    for (int64_t step = 1; step <= o.steps; ++step) {
      auto [images, masks] = next_batch();
      PRN_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 3 && images.size(2) == images.size(3),
                "adapt_encoder: expected images (B, 3, S, S), got ", images.defined() ? images.sizes() : torch::IntArrayRef{});
      const int64_t S = images.size(2);
      PRN_CHECK(masks.defined() && masks.sizes() == torch::IntArrayRef({images.size(0), 1, S, S}),
                "adapt_encoder: expected masks (", images.size(0), ", 1, ", S, ", ", S, "), got ",
                masks.defined() ? masks.sizes() : torch::IntArrayRef{});
      optimizer.zero_grad();
      auto logits = head->forward(encoder.forward(images.to(device)), S);
      auto parts = prn_loss(logits, masks.to(device), o.focal_alpha, o.focal_gamma, o.loss_lambda);
      auto losses = torch::stack({parts.total, parts.focal, parts.smooth_l1}).detach();
      parts.total.backward();
      if (reducer != nullptr && reducer->world_size() > 1)
        average_gradients(*reducer, params, losses);
      const auto l = losses.cpu();
      const StepLosses s{l[0].item<double>(), l[1].item<double>(), l[2].item<double>()};
      PRN_CHECK(std::isfinite(s.total), "adapt_encoder: the loss is not finite (", s.total, ") at step ", step,
                "; lower the adaptation learning rate");
      optimizer.step();
      if (on_step && !on_step(step, s))
        break;
    }
  } catch (...) {
    encoder.set_trainable(false);
    throw;
  }
  encoder.set_trainable(false);
}

} // namespace prn
