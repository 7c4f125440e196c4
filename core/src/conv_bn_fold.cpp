#include "prn/conv_bn_fold.h"

#include "prn/ops/winograd_conv.h"

#include <ATen/autocast_mode.h>

#include <array>
#include <mutex>
#include <variant>

namespace prn {
namespace detail {

// Identity of one source tensor's contents: its storage, offset and version
// counter. The storage is held by a weak reference: its data is freed as usual
// when the tensor moves elsewhere, but the StorageImpl's address cannot be
// reused by another storage while the key exists.
struct SourceKey {
  c10::weak_intrusive_ptr<c10::StorageImpl> storage{c10::weak_intrusive_ptr<c10::StorageImpl>(
      c10::intrusive_ptr<c10::StorageImpl>())};
  int64_t offset = 0;
  int64_t version = 0;
  bool defined = false;

  static SourceKey of(const torch::Tensor &t) {
    SourceKey k;
    if (!t.defined())
      return k;
    k.storage = t.storage().getWeakStorageImpl();
    k.offset = t.storage_offset();
    k.version = t._version();
    k.defined = true;
    return k;
  }
  bool matches(const torch::Tensor &t) const {
    if (!t.defined())
      return !defined;
    return defined && !storage.expired() && t.storage().unsafeGetStorageImpl() == storage._unsafe_get_target() &&
           t.storage_offset() == offset && t._version() == version;
  }
};

} // namespace detail

namespace {

using detail::SourceKey;

// A parameter whose changes the fold can track: a floating-point, non-inference
// tensor on `device` (undefined is fine for the conv bias).
bool trackable(const torch::Tensor &t, const torch::Device &device, bool may_be_undefined = false) {
  if (!t.defined())
    return may_be_undefined;
  return !t.is_inference() && t.is_floating_point() && t.device() == device;
}

// This thread's choice (ConvAlgorithmGuard).
thread_local ConvAlgorithm conv_algorithm = ConvAlgorithm::automatic;

} // namespace

ConvAlgorithmGuard::ConvAlgorithmGuard(ConvAlgorithm algorithm) : previous_(conv_algorithm) {
  conv_algorithm = algorithm;
}

ConvAlgorithmGuard::~ConvAlgorithmGuard() { conv_algorithm = previous_; }

ConvAlgorithm ConvAlgorithmGuard::current() { return conv_algorithm; }

bool inference_fast_path(const torch::Tensor &x) {
  return x.defined() && !c10::GradMode::is_enabled() && !at::autocast::is_autocast_enabled(x.device().type());
}

struct ConvBnFold::State {
  std::mutex mutex;
  std::array<SourceKey, 6> keys; // conv weight, conv bias, bn weight, bias, running mean, running var
  double eps = 0;
  torch::Tensor weight, bias;
  torch::Tensor winograd; // ops::winograd_weight(weight), made on first use
  int64_t builds = 0;
};

ConvBnFold::ConvBnFold() : state_(std::make_shared<State>()) {}

std::optional<torch::Tensor> ConvBnFold::apply(torch::nn::Conv2dImpl &conv, torch::nn::BatchNorm2dImpl &bn,
                                               const torch::Tensor &x) {
  if (bn.is_training() || !inference_fast_path(x) || !bn.options.track_running_stats())
    return std::nullopt;
  const auto &copt = conv.options;
  const auto *padding = std::get_if<torch::ExpandingArray<2>>(&copt.padding());
  if (padding == nullptr || !std::holds_alternative<torch::enumtype::kZeros>(copt.padding_mode()))
    return std::nullopt;
  const auto device = x.device();
  const bool affine = bn.options.affine();
  if (!trackable(conv.weight, device) || !trackable(conv.bias, device, true) ||
      !trackable(bn.running_mean, device) || !trackable(bn.running_var, device) ||
      (affine && (!trackable(bn.weight, device) || !trackable(bn.bias, device))))
    return std::nullopt;
  if (conv.weight.size(0) != bn.running_mean.size(0))
    return std::nullopt; // not a conv feeding this BN; the plain path reports the error

  const std::array<const torch::Tensor *, 6> sources{&conv.weight, &conv.bias,         &bn.weight,
                                                     &bn.bias,     &bn.running_mean, &bn.running_var};
  const double eps = bn.options.eps();
  const auto stride = *copt.stride();
  const auto dilation = *copt.dilation();
  torch::Tensor weight, bias, winograd;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    bool fresh = state_->weight.defined() && state_->eps == eps;
    for (size_t i = 0; fresh && i < sources.size(); ++i)
      fresh = state_->keys[i].matches(*sources[i]);
    if (!fresh) {
      // In double, then rounded once to the weight's dtype.
      const auto w = conv.weight.to(torch::kFloat64);
      auto scale = (bn.running_var.to(torch::kFloat64) + eps).rsqrt();
      if (affine)
        scale = scale * bn.weight.to(torch::kFloat64);
      auto shift = conv.bias.defined() ? conv.bias.to(torch::kFloat64) - bn.running_mean.to(torch::kFloat64)
                                       : -bn.running_mean.to(torch::kFloat64);
      auto b = shift * scale;
      if (affine)
        b = b + bn.bias.to(torch::kFloat64);
      const auto format = conv.weight.suggest_memory_format();
      state_->weight = (w * scale.view({-1, 1, 1, 1})).to(conv.weight.scalar_type()).contiguous(format);
      state_->bias = b.to(conv.weight.scalar_type());
      for (size_t i = 0; i < sources.size(); ++i)
        state_->keys[i] = SourceKey::of(*sources[i]);
      state_->eps = eps;
      state_->winograd = torch::Tensor();
      ++state_->builds;
    }
    weight = state_->weight;
    bias = state_->bias;
    if (conv_algorithm == ConvAlgorithm::automatic &&
        ops::winograd_applies(x, weight, stride, *padding, dilation, copt.groups())) {
      if (!state_->winograd.defined())
        state_->winograd = ops::winograd_weight(weight);
      winograd = state_->winograd;
    }
  }
  if (winograd.defined())
    return ops::winograd_conv3x3(x, winograd, bias);
  return at::conv2d(x, weight, bias, stride, *padding, dilation, copt.groups());
}

void ConvBnFold::clear() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->weight = torch::Tensor();
  state_->bias = torch::Tensor();
  state_->winograd = torch::Tensor();
  state_->keys = {};
}

bool ConvBnFold::cached() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->weight.defined();
}

int64_t ConvBnFold::builds() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->builds;
}

} // namespace prn
