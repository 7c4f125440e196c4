// Nearest-prototype residual: checks, device dispatch and autograd.
#include "prn/ops/nearest_residual.h"

#include "nearest_residual_kernels.h"

#include <torch/autograd.h>

namespace prn::ops {
namespace {

void check_inputs(const at::Tensor &features, const at::Tensor &prototypes) {
  TORCH_CHECK(features.defined() && prototypes.defined(), "nearest_prototype_residual: expected defined tensors");
  TORCH_CHECK(features.dim() == 4, "nearest_prototype_residual: expected features of shape (B, C, H, W), got ",
              features.sizes());
  TORCH_CHECK(prototypes.dim() == 4, "nearest_prototype_residual: expected prototypes of shape (K, C, H, W), got ",
              prototypes.sizes());
  TORCH_CHECK(prototypes.size(0) >= 1, "nearest_prototype_residual: expected at least one prototype, got ",
              prototypes.sizes());
  TORCH_CHECK(features.sizes().slice(1) == prototypes.sizes().slice(1),
              "nearest_prototype_residual: expected prototypes of shape (K, ", features.size(1), ", ",
              features.size(2), ", ", features.size(3), ") to match the features ", features.sizes(), ", got ",
              prototypes.sizes());
  TORCH_CHECK(features.scalar_type() == at::kFloat && prototypes.scalar_type() == at::kFloat,
              "nearest_prototype_residual: expected float32 features and prototypes, got ", features.scalar_type(),
              " and ", prototypes.scalar_type());
  TORCH_CHECK(features.device() == prototypes.device(),
              "nearest_prototype_residual: expected features and prototypes on one device, got ", features.device(),
              " and ", prototypes.device());
}

std::tuple<at::Tensor, at::Tensor> forward_impl(const at::Tensor &input, const at::Tensor &given_prototypes) {
  // The kernels read flat vectors in one layout: the features' (channels-last
  // in the model, whose prototypes are stored so), the prototypes converted
  // once here when theirs differs.
  const auto layout = input.suggest_memory_format();
  const auto features = input.contiguous(layout);
  const auto prototypes = given_prototypes.contiguous(layout);
  if (features.is_cpu()) {
    auto dist = detail::prototype_distances_cpu(features, prototypes);
    auto index = dist.argmin(1);
    return {detail::gathered_residual_cpu(features, prototypes, index), index};
  }
#if PRN_WITH_CUDA
  if (features.is_cuda()) {
    auto dist = detail::prototype_distances_cuda(features, prototypes);
    auto index = dist.argmin(1);
    return {detail::gathered_residual_cuda(features, prototypes, index), index};
  }
#endif
  return nearest_prototype_residual_reference(features, prototypes);
}

// d residual / d features = 2 (features - P*); prototypes get no gradient.
class NearestResidualFunction : public torch::autograd::Function<NearestResidualFunction> {
public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx, const at::Tensor &features,
                                                const at::Tensor &prototypes) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [residual, index] = forward_impl(features, prototypes);
    ctx->save_for_backward({features, prototypes, index});
    ctx->mark_non_differentiable({index});
    return {residual, index};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto diff = saved[0] - saved[1].index_select(0, saved[2]);
    return {grads[0] * 2 * diff, at::Tensor()};
  }
};

} // namespace

std::tuple<at::Tensor, at::Tensor> nearest_prototype_residual_reference(const at::Tensor &features,
                                                                        const at::Tensor &prototypes) {
  check_inputs(features, prototypes);
  const int64_t B = features.size(0), K = prototypes.size(0);
  auto x = features.reshape({B, -1}).to(at::kDouble);
  auto p = prototypes.reshape({K, -1}).to(at::kDouble);
  auto dist = at::empty({B, K}, x.options());
  for (int64_t k = 0; k < K; ++k)
    dist.select(1, k).copy_((x - p[k]).pow(2).sum(1));
  auto index = dist.argmin(1);
  auto residual = (features - prototypes.index_select(0, index)).pow(2);
  return {residual, index};
}

std::tuple<at::Tensor, at::Tensor> nearest_prototype_residual(const at::Tensor &features,
                                                              const at::Tensor &prototypes) {
  check_inputs(features, prototypes);
  if (features.size(0) == 0)
    return {at::empty_like(features), at::empty({0}, features.options().dtype(at::kLong))};
  if (features.requires_grad() && at::GradMode::is_enabled()) {
    auto out = NearestResidualFunction::apply(features, prototypes.detach());
    return {out[0], out[1]};
  }
  return forward_impl(features, prototypes);
}

} // namespace prn::ops
