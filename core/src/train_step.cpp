#include "prn/train_step.h"

#include "internal/batchnorm_refit.h"

#include "prn/error.h"
#include "prn/batchnorm.h"
#include "prn/loss.h"

namespace prn {

WeightDecay weight_decay_from_name(const std::string &name) {
  if (name == "adamw")
    return WeightDecay::Decoupled;
  if (name == "adam")
    return WeightDecay::Coupled;
  throw Error("optimizer '" + name + "': expected adamw (decoupled weight decay) or adam (coupled, L2)");
}

std::string weight_decay_name(WeightDecay w) { return w == WeightDecay::Decoupled ? "adamw" : "adam"; }

std::unique_ptr<torch::optim::Optimizer> make_optimizer(PrnModelImpl &model, double lr, double weight_decay,
                                                        WeightDecay kind) {
  PRN_CHECK(lr > 0, "optimizer: expected lr > 0, got ", lr);
  PRN_CHECK(weight_decay >= 0, "optimizer: expected weight_decay >= 0, got ", weight_decay);
  if (kind == WeightDecay::Decoupled)
    return std::make_unique<torch::optim::AdamW>(model.trainable_parameters(),
                                                 torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
  return std::make_unique<torch::optim::Adam>(model.trainable_parameters(),
                                              torch::optim::AdamOptions(lr).weight_decay(weight_decay));
}

namespace {

// A finite loss can still have Inf/NaN gradients (an overflow in backward);
// Adam would turn them into NaN weights. Refuse the step and name them.
void check_gradients_finite(PrnModelImpl &model) {
  std::vector<torch::Tensor> grads;
  std::vector<std::string> names;
  for (const auto &item : model.named_parameters())
    if (item.value().grad().defined()) {
      grads.push_back(item.value().grad());
      names.push_back(item.key());
    }
  if (grads.empty())
    return;
  std::vector<torch::Tensor> finite;
  for (const auto &g : grads)
    finite.push_back(torch::isfinite(g).all());
  const auto ok = torch::stack(finite).cpu();
  if (ok.all().item<bool>())
    return;
  std::string bad;
  for (size_t i = 0; i < names.size(); ++i)
    if (!ok[static_cast<int64_t>(i)].item<bool>())
      bad += (bad.empty() ? "" : ", ") + names[i];
  throw Error("train_step: the loss is finite but the gradients of " + bad +
              " are not (Inf/NaN); lower the learning rate");
}

} // namespace

StepLosses train_step(PrnModelImpl &model, torch::optim::Optimizer &optimizer, const torch::Tensor &images,
                      const torch::Tensor &masks, Precision precision, LossScaler *scaler, Reducer *reducer) {
  PRN_CHECK(precision != Precision::Float16 || scaler != nullptr,
            "train_step: fp16 needs a LossScaler (float16 gradients underflow without loss scaling)");
  const int64_t S = model.config().input_size;
  PRN_CHECK(masks.defined() && masks.dim() == 4 && masks.size(0) == images.size(0) && masks.size(1) == 1 &&
                masks.size(2) == S && masks.size(3) == S,
            "train_step: expected masks of shape (", images.size(0), ", 1, ", S, ", ", S, "), got ",
            masks.defined() ? masks.sizes() : torch::IntArrayRef{});
  PRN_CHECK(masks.scalar_type() == torch::kFloat32, "train_step: expected float32 masks, got ", masks.scalar_type());
  model.train(true);
  optimizer.zero_grad();
  torch::Tensor logits;
  {
    AutocastGuard autocast(images.device(), precision);
    logits = model.forward(images);
  }
  logits = logits.to(torch::kFloat32);
  const auto &c = model.config();
  auto parts = prn_loss(logits, masks, c.focal_alpha, c.focal_gamma, c.loss_lambda);
  auto losses = torch::stack({parts.total, parts.focal, parts.smooth_l1}).detach().to(torch::kFloat32);
  if (reducer != nullptr && reducer->world_size() > 1) {
    // Every process runs backward and the all-reduce, so that a non-finite
    // loss on one process is seen (and refused) by all of them.
    (precision == Precision::Float16 ? scaler->scale(parts.total) : parts.total).backward();
    average_gradients(*reducer, model.trainable_parameters(), losses);
  }
  const auto l = losses.cpu();
  const double total = l[0].item<double>();
  PRN_CHECK(std::isfinite(total), "train_step: the loss is not finite (", total, "); lower the learning rate");
  if (reducer == nullptr || reducer->world_size() <= 1)
    (precision == Precision::Float16 ? scaler->scale(parts.total) : parts.total).backward();
  if (precision != Precision::Float16) // (fp16: the scaler skips steps with Inf/NaN gradients)
    check_gradients_finite(model);
  if (precision == Precision::Float16)
    scaler->step(optimizer, model.trainable_parameters());
  else
    optimizer.step();
  return {total, l[1].item<double>(), l[2].item<double>()};
}

void set_batchnorm_reducer(PrnModelImpl &model, const std::shared_ptr<Reducer> &reducer) {
  for (auto &module : model.modules())
    if (auto *bn = dynamic_cast<SyncableBatchNorm2dImpl *>(module.get()))
      bn->set_reducer(reducer);
}

void broadcast_model(PrnModelImpl &model, Reducer &reducer, int root) {
  PRN_CHECK(root >= 0 && root < reducer.world_size(), "broadcast_model: expected a root rank in [0, ",
            reducer.world_size(), "), got ", root);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (auto &p : model.parameters())
    tensors.push_back(p);
  for (auto &b : model.buffers())
    tensors.push_back(b);
  reducer.broadcast(tensors, root);
}

void recalibrate_batchnorm(PrnModelImpl &model, const std::function<torch::Tensor()> &next_batch, int64_t batches) {
  PRN_CHECK(batches >= 1, "recalibrate_batchnorm: expected batches >= 1, got ", batches);
  std::vector<torch::nn::BatchNorm2dImpl *> norms;
  for (auto &item : model.named_modules()) {
    if (item.key().rfind("encoder", 0) == 0)
      continue;
    if (auto *bn = dynamic_cast<torch::nn::BatchNorm2dImpl *>(item.value().get()))
      norms.push_back(bn);
  }
  model.train(true);
  detail::refit_batchnorm(norms, [&] {
    for (int64_t i = 0; i < batches; ++i)
      model.forward(next_batch());
  });
  model.eval();
}

} // namespace prn
