// prnanomaly core: the BatchNorm of the trainable network (fusion, attention,
// decoder), synchronised across the processes of a data-parallel run.
#pragma once

#include "prn/reducer.h"

#include <torch/torch.h>

#include <memory>

namespace prn {

// torch::nn::BatchNorm2d (same parameters, buffers and names, so model files
// are unchanged) that, given a Reducer of world size > 1 and in training mode,
// normalises with the statistics of the global batch: the per-channel sums of
// x and then of (x - mean)^2 (two passes, as the native kernel) and the element
// counts are summed over all processes, through an all-reduce that autograd
// differentiates (its backward all-reduces the gradients), and the running
// statistics are updated from the global mean and unbiased variance. With one
// process, or in eval mode, it is the native BatchNorm2d.
class SyncableBatchNorm2dImpl : public torch::nn::BatchNorm2dImpl {
public:
  using torch::nn::BatchNorm2dImpl::BatchNorm2dImpl;
  torch::Tensor forward(const torch::Tensor &input);
  // nullptr (the default): per-process statistics.
  void set_reducer(std::shared_ptr<Reducer> reducer) { reducer_ = std::move(reducer); }
  const std::shared_ptr<Reducer> &reducer() const { return reducer_; }

private:
  std::shared_ptr<Reducer> reducer_;
};
TORCH_MODULE(SyncableBatchNorm2d);

// Sum over all processes, differentiable: the gradient of each process's copy
// of the sum flows back to every process's input (the backward is an
// all-reduce of the gradients too).
torch::Tensor all_reduce_sum(const torch::Tensor &x, const std::shared_ptr<Reducer> &reducer);

} // namespace prn
