#include "prn/model.h"

#include "internal/batch_groups.h"
#include "internal/channels_last.h"

#include "prn/conv_bn_fold.h"
#include "prn/error.h"
#include "prn/ops/nearest_residual.h"
#include "prn/postprocess.h"
#include "prn/prototypes.h"

#include <algorithm>
#include <cmath>

namespace prn {

namespace nn = torch::nn;

PrnModelImpl::PrnModelImpl(ModelConfig config, uint64_t seed) : config_(std::move(config)) {
  config_.validate();
  encoder_ = register_module("encoder", Encoder());
  for (int s = 0; s < 3; ++s) {
    const int64_t side = config_.feature_size(s);
    prototypes_[s] = register_buffer("prototypes" + std::to_string(s),
                                     torch::zeros({0, kEncoderChannels[s], side, side}));
  }
  fusion_in_ = register_module("fusion_in", MultiScaleFusion(kEncoderChannels));
  for (int s = 0; s < 3; ++s) {
    projection_[s] = nn::Conv2d(nullptr);
    if (config_.channels[s] != 2 * kEncoderChannels[s]) {
      projection_[s] = register_module("projection" + std::to_string(s),
                                       nn::Conv2d(nn::Conv2dOptions(2 * kEncoderChannels[s], config_.channels[s], 1)));
    }
    attention_[s] = nn::Sequential();
    for (int64_t b = 0; b < config_.attention_blocks; ++b)
      attention_[s]->push_back(
          MultiSizeAttentionBlock(config_.channels[s], config_.feature_size(s), config_.patch_divisors));
    attention_[s] = register_module("attention" + std::to_string(s), attention_[s]);
  }
  fusion_out_ = register_module("fusion_out", MultiScaleFusion(config_.channels));
  decoder_ = register_module("decoder", Decoder(config_.channels, config_.head_channels, config_.input_size));
  reset_parameters(seed);
  // Convolutions run in channels-last (NHWC) layout: oneDNN's fast path on CPU and
  // cuDNN's on tensor cores; the weights are stored in the same layout.
  torch::NoGradGuard no_grad;
  for (auto &item : named_parameters())
    if (item.value().dim() == 4 && item.key().find("branch") == std::string::npos) // conv weights only
      item.value().set_data(item.value().contiguous(torch::MemoryFormat::ChannelsLast));
}

void PrnModelImpl::reset_parameters(uint64_t seed) {
  torch::NoGradGuard no_grad;
  encoder_->reset_parameters(seed);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed + 0x9e3779b97f4a7c15ULL);
  for (auto &item : named_parameters()) {
    const std::string &name = item.key();
    if (name.rfind("encoder.", 0) == 0)
      continue;
    torch::Tensor p = item.value();
    const bool is_weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
    if (name.find("branch") != std::string::npos) {
      // attention q/k/v: weights near 1 (the symmetry between q and k broken), biases 0
      if (is_weight)
        p.copy_(1.0 + 0.02 * at::normal(0.0, 1.0, p.sizes(), gen, torch::kFloat32));
      else
        p.zero_();
    } else if (p.dim() == 4) {
      // convs: Kaiming normal over fan-in (grouped convs count their group)
      const double fan_in = static_cast<double>(p.size(1) * p.size(2) * p.size(3));
      p.copy_(at::normal(0.0, std::sqrt(2.0 / fan_in), p.sizes(), gen, torch::kFloat32));
    } else if (is_weight) {
      p.fill_(1.0); // BatchNorm scale
    } else {
      p.zero_();
    }
  }
  for (auto &item : named_buffers()) {
    const std::string &name = item.key();
    if (name.rfind("encoder.", 0) == 0)
      continue;
    if (name.find("running_mean") != std::string::npos || name.find("num_batches_tracked") != std::string::npos)
      item.value().zero_();
    else if (name.find("running_var") != std::string::npos)
      item.value().fill_(1.0);
  }
}

void PrnModelImpl::set_prototypes(const Scales &prototypes) {
  const int64_t k = prototypes[0].defined() ? prototypes[0].size(0) : 0;
  PRN_CHECK(k >= 1, "set_prototypes: expected at least one prototype per scale, got ", k);
  for (int s = 0; s < 3; ++s) {
    const int64_t side = config_.feature_size(s);
    const auto &p = prototypes[s];
    PRN_CHECK(p.defined() && p.dim() == 4 && p.size(0) == k && p.size(1) == kEncoderChannels[s] &&
                  p.size(2) == side && p.size(3) == side,
              "set_prototypes: expected scale ", s, " prototypes of shape (", k, ", ", kEncoderChannels[s], ", ", side,
              ", ", side, "), got ", p.defined() ? p.sizes() : torch::IntArrayRef{});
    PRN_CHECK(p.is_floating_point() && torch::isfinite(p).all().item<bool>(),
              "set_prototypes: scale ", s, " prototypes must be finite floating-point values");
  }
  torch::NoGradGuard no_grad;
  for (int s = 0; s < 3; ++s) {
    // Channels-last, the layout of the encoder's features: the residual kernels
    // then compare them without converting either (model files store them NCHW).
    auto value =
        prototypes[s].detach().to(prototypes_[s].device(), torch::kFloat32).clone(torch::MemoryFormat::ChannelsLast);
    prototypes_[s].set_(value);
  }
}

void PrnModelImpl::fit_prototypes(const torch::Tensor &normal_images, uint64_t seed, int64_t batch) {
  check_input(normal_images);
  PRN_CHECK(batch >= 1, "fit_prototypes: expected batch >= 1, got ", batch);
  const int64_t n = normal_images.size(0);
  const int64_t k = prototype_count(n, config_.prototype_ratio, config_.num_prototypes);
  std::array<std::vector<torch::Tensor>, 3> chunks;
  for (int64_t i = 0; i < n; i += batch) {
    auto f = encoder_->forward(normal_images.slice(0, i, std::min(n, i + batch)));
    for (int s = 0; s < 3; ++s)
      chunks[s].push_back(f[s].cpu());
  }
  Scales features;
  for (int s = 0; s < 3; ++s)
    features[s] = torch::cat(chunks[s], 0);
  set_prototypes(prn::fit_prototypes(features, k, config_.kmeans_max_iter, seed));
}

void PrnModelImpl::check_input(const torch::Tensor &images, InputCheck check) const {
  const int64_t S = config_.input_size;
  PRN_CHECK(images.defined(), "model input: expected a (B, 3, ", S, ", ", S, ") float32 tensor, got an undefined one");
  PRN_CHECK(images.dim() == 4 && images.size(1) == 3 && images.size(2) == S && images.size(3) == S,
            "model input: expected shape (B, 3, ", S, ", ", S, ") for the '", config_.name, "' configuration, got ",
            images.sizes());
  PRN_CHECK(images.scalar_type() == torch::kFloat32, "model input: expected float32 RGB in [0, 1], got ",
            images.scalar_type());
  PRN_CHECK(images.device() == prototypes_[0].device(), "model input: expected a tensor on ",
            prototypes_[0].device(), " (the model's device), got one on ", images.device());
  PRN_CHECK(images.size(0) >= 1, "model input: expected at least one image, got an empty batch");
  if (check == InputCheck::Shape)
    return;
  // One pass (min and max propagate NaN; an Inf is the min or the max) instead
  // of isfinite's several over the whole batch.
  const auto [lo, hi] = torch::aminmax(images);
  PRN_CHECK(torch::isfinite(torch::stack({lo, hi})).all().item<bool>(),
            "model input: expected finite values, got NaN or Inf");
}

ForwardTrace PrnModelImpl::run(const torch::Tensor &images, bool keep, InputCheck check) {
  check_input(images, check);
  PRN_CHECK(has_prototypes(), "model: prototypes are not fitted (call fit_prototypes or load a model file)");
  ForwardTrace t;
  // The inference fast path (eval mode, no autograd, no autocast): BatchNorms
  // folded into the convs, every map channels-last, in-place activations.
  const bool fast = !is_training() && inference_fast_path(images);
  t.features = encoder_->forward(images.contiguous(torch::MemoryFormat::ChannelsLast), /*fold_batchnorm=*/fast);
  for (int s = 0; s < 3; ++s) {
    // Features and prototypes are both channels-last: the residual is computed
    // and returned in that layout, nothing converted. In float32 also under
    // autocast (mixed precision): squared differences of nearby features lose
    // everything in 16 bits. A no-op for float32 features.
    std::tie(t.residuals[s], t.nearest[s]) =
        ops::nearest_prototype_residual(t.features[s].to(torch::kFloat32), prototypes_[s]);
  }
  auto ff = fusion_in_->forward(t.features);
  auto fr = fusion_in_->forward(t.residuals);
  for (int s = 0; s < 3; ++s) {
    auto c = fast ? detail::cat_channels_last(ff[s], fr[s]) : torch::cat({ff[s], fr[s]}, 1);
    t.fused[s] = projection_[s].is_empty() ? c : projection_[s]->forward(c);
    t.attended[s] = attention_[s]->is_empty() ? t.fused[s] : attention_[s]->forward(t.fused[s]);
  }
  t.refused = fusion_out_->forward(t.attended);
  t.logits = decoder_->forward(t.refused);
  if (!keep) {
    ForwardTrace only;
    only.logits = t.logits;
    return only;
  }
  return t;
}

torch::Tensor PrnModelImpl::forward(const torch::Tensor &images) { return logits(images, InputCheck::Values); }

torch::Tensor PrnModelImpl::logits(const torch::Tensor &images, InputCheck check) {
  // CPU inference in groups of kCpuGroup images: the maps of a group stay in
  // cache between the layers (measured on a 2-core EPYC, 32 MiB L3: light 119.8
  // tiles/s at batch 8, 103.8 at 32; paper 2.50 at 8, 2.40 at 16).
  constexpr int64_t kCpuGroup = 8;
  if (images.defined() && images.dim() == 4 && images.is_cpu() && !is_training() && inference_fast_path(images))
    return detail::in_groups(images, kCpuGroup, [&](const torch::Tensor &part) { return run(part, false, check).logits; });
  return run(images, false, check).logits;
}

ForwardTrace PrnModelImpl::trace(const torch::Tensor &images) { return run(images, true); }

void PrnModelImpl::set_map_sigma(double sigma) {
  ModelConfig c = config_;
  c.map_sigma = sigma;
  c.validate();
  config_ = c;
}

torch::Tensor PrnModelImpl::anomaly_map(const torch::Tensor &images, InputCheck check) {
  torch::NoGradGuard no_grad;
  auto maps = torch::sigmoid(logits(images, check));
  return config_.map_sigma > 0 ? smooth_maps(maps, config_.map_sigma) : maps;
}

std::vector<torch::Tensor> PrnModelImpl::trainable_parameters() {
  std::vector<torch::Tensor> out;
  for (auto &item : named_parameters())
    if (item.key().rfind("encoder.", 0) != 0)
      out.push_back(item.value());
  return out;
}

} // namespace prn
