#include "prn/batchnorm.h"

#include "prn/error.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

namespace prn {
namespace {

// The backward of all_reduce_sum: each process's output feeds its own loss,
// and the total loss is the sum of the processes' losses, so the gradient of
// every process's input is the sum of the output gradients of all processes.
struct AllReduceSumBackward : torch::autograd::Node {
  explicit AllReduceSumBackward(std::shared_ptr<Reducer> r) : reducer(std::move(r)) {}
  torch::autograd::variable_list apply(torch::autograd::variable_list &&grads) override {
    std::vector<torch::Tensor> g{grads.at(0).contiguous().clone()};
    reducer->all_reduce_sum(g);
    return {g[0]};
  }
  std::string name() const override { return "prn::AllReduceSumBackward"; }
  std::shared_ptr<Reducer> reducer;
};

} // namespace

torch::Tensor all_reduce_sum(const torch::Tensor &x, const std::shared_ptr<Reducer> &reducer) {
  PRN_CHECK(reducer != nullptr, "all_reduce_sum: no reducer");
  std::vector<torch::Tensor> sum{x.detach().contiguous().clone()};
  reducer->all_reduce_sum(sum);
  if (torch::autograd::compute_requires_grad(x)) {
    auto node = c10::make_intrusive<AllReduceSumBackward>(reducer);
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    torch::autograd::set_history(sum[0], node);
  }
  return sum[0];
}

torch::Tensor SyncableBatchNorm2dImpl::forward(const torch::Tensor &input) {
  if (!reducer_ || reducer_->world_size() <= 1 || !is_training())
    return torch::nn::BatchNorm2dImpl::forward(input);
  PRN_CHECK(input.dim() == 4, "BatchNorm2d: expected a 4-D input (B, C, H, W), got ", input.sizes());
  const int64_t C = input.size(1);
  PRN_CHECK(C == options.num_features(), "BatchNorm2d: expected ", options.num_features(), " channels, got ", C);
  // Statistics in float32 whatever the autocast dtype, as the native kernel.
  const auto x = input.to(torch::kFloat32);
  const std::vector<int64_t> dims{0, 2, 3};
  auto local = torch::cat({x.sum(dims), torch::full({1}, double(x.numel() / C), x.options())});
  auto global = all_reduce_sum(local, reducer_);
  const auto count = global.narrow(0, C, 1);
  const double n = global[C].item<double>();
  PRN_CHECK(n > 1, "BatchNorm2d: expected more than one value per channel over all processes, got ", n);
  const auto mean = global.narrow(0, 0, C) / count;
  const auto centred = x - mean.view({1, C, 1, 1});
  const auto var = all_reduce_sum(centred.square().sum(dims), reducer_) / n; // biased, for normalising
  auto y = centred * torch::rsqrt(var + options.eps()).view({1, C, 1, 1});
  if (options.affine())
    y = y * weight.view({1, C, 1, 1}) + bias.view({1, C, 1, 1});
  if (options.track_running_stats()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
    const double factor = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
    running_mean.mul_(1 - factor).add_(mean.detach(), factor);
    running_var.mul_(1 - factor).add_(var.detach() * (n / (n - 1)), factor);
  }
  return y.to(input.scalar_type());
}

} // namespace prn
