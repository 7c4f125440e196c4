#include "prn/encoder_pretraining.h"
#include "prn/error.h"
#include "prn/lr_schedule.h"

#include <cmath>

namespace prn {

int64_t pretrain_encoder(EncoderImpl &encoder, int64_t classes,
                         const std::function<std::pair<torch::Tensor, torch::Tensor>(int64_t)> &next_batch,
                         const EncoderPretrainingOptions &o,
                         const std::function<bool(int64_t, const PretrainingStep &)> &on_step) {
  PRN_CHECK(classes >= 2, "pretrain_encoder: expected at least 2 classes, got ", classes);
  PRN_CHECK(o.steps >= 1, "pretrain_encoder: expected steps >= 1, got ", o.steps);
  PRN_CHECK(o.lr > 0 && std::isfinite(o.lr), "pretrain_encoder: expected lr > 0, got ", o.lr);
  PRN_CHECK(o.weight_decay >= 0, "pretrain_encoder: expected weight_decay >= 0, got ", o.weight_decay);
  PRN_CHECK(next_batch != nullptr, "pretrain_encoder: expected a batch source");
  const auto device = encoder.parameters().front().device();
  PRN_CHECK(o.precision != Precision::Float16,
            "pretrain_encoder: expected precision fp32 or bf16, got fp16 (it would need loss scaling; use bf16)");
  check_precision(o.precision, device);
  torch::nn::Linear classifier(torch::nn::LinearOptions(256, classes));
  { // torch.nn.Linear's default initialisation, drawn from the seed
    torch::NoGradGuard no_grad;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    const double bound = 1.0 / std::sqrt(256.0);
    classifier->weight.copy_(at::rand(classifier->weight.sizes(), gen, torch::kFloat32) * (2 * bound) - bound);
    classifier->bias.copy_(at::rand(classifier->bias.sizes(), gen, torch::kFloat32) * (2 * bound) - bound);
  }
  classifier->to(device);
  // Convolutions in channels-last (NHWC) layout, oneDNN's fast path; the weights
  // go back to the usual layout afterwards, so the encoder computes exactly what
  // a file loaded from it does.
  auto layout = [&](torch::MemoryFormat format) {
    torch::NoGradGuard no_grad;
    for (auto &p : encoder.parameters())
      if (p.dim() == 4)
        p.set_data(p.contiguous(format));
  };
  layout(torch::MemoryFormat::ChannelsLast);
  encoder.set_trainable(true);
  encoder.train(true);
  std::vector<torch::Tensor> params = encoder.parameters();
  for (auto &p : classifier->parameters())
    params.push_back(p);
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  int64_t done = 0;
  try {
    for (int64_t step = 1; step <= o.steps; ++step) {
      auto [images, labels] = next_batch(step - 1);
      PRN_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 3 && images.size(0) >= 1,
                "pretrain_encoder: expected images (B, 3, H, W), got ",
                images.defined() ? images.sizes() : torch::IntArrayRef{});
      PRN_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == images.size(0) &&
                    labels.scalar_type() == torch::kInt64,
                "pretrain_encoder: expected int64 labels (", images.size(0), "), got ",
                labels.defined() ? labels.sizes() : torch::IntArrayRef{});
      PRN_CHECK(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < classes,
                "pretrain_encoder: expected labels in [0, ", classes, "), got [", labels.min().item<int64_t>(), ", ",
                labels.max().item<int64_t>(), "]");
      const double lr = scheduled_lr(LrSchedule::Cosine, o.lr, step - 1, o.steps);
      set_lr(optimizer, lr);
      labels = labels.to(device);
      torch::Tensor logits;
      {
        AutocastGuard autocast(device, o.precision);
        logits = classifier->forward(
            encoder.forward(images.to(device).contiguous(torch::MemoryFormat::ChannelsLast))[2].mean({2, 3}));
      }
      logits = logits.to(torch::kFloat32); // the loss in float32
      auto loss = torch::nn::functional::cross_entropy(logits, labels);
      optimizer.zero_grad();
      loss.backward();
      PretrainingStep info;
      info.loss = loss.item<double>();
      info.accuracy = logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
      info.lr = lr;
      PRN_CHECK(std::isfinite(info.loss), "pretrain_encoder: the loss is not finite (", info.loss, ") at step ", step,
                "; lower the learning rate");
      optimizer.step();
      done = step;
      if (on_step && !on_step(step, info))
        break;
    }
  } catch (...) {
    encoder.set_trainable(false);
    layout(torch::MemoryFormat::Contiguous);
    throw;
  }
  encoder.set_trainable(false);
  layout(torch::MemoryFormat::Contiguous);
  return done;
}

std::map<std::string, torch::Tensor> encoder_state_dict(EncoderImpl &encoder) {
  // torchvision_keys(): the encoder's one list of what a torchvision file holds.
  const auto params = encoder.named_parameters(), buffers = encoder.named_buffers();
  std::map<std::string, torch::Tensor> out;
  for (const auto &key : encoder.torchvision_keys()) {
    const torch::Tensor *t = params.find(key);
    out[key] = (t != nullptr ? *t : buffers[key]).detach().cpu().clone(torch::MemoryFormat::Contiguous);
  }
  return out;
}

} // namespace prn
