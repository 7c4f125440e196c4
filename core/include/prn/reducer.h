// prnanomaly core: the collective operations of data-parallel training, as an
// interface. The core (synchronised BatchNorm, gradient averaging in
// prn::train_step) uses it; prn-train implements it with torch.distributed
// (c10d: Gloo on the CPU, NCCL on CUDA), so the core does not link c10d.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace prn {

class Reducer {
public:
  virtual ~Reducer() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place: every tensor becomes the element-wise sum of its copies on all
  // processes. Every process passes tensors of the same shapes, dtypes and order.
  virtual void all_reduce_sum(std::vector<torch::Tensor> &tensors) = 0;
  // In place: every tensor becomes rank `root`'s copy.
  virtual void broadcast(std::vector<torch::Tensor> &tensors, int root) = 0;
};

// Data parallel, after backward: every parameter's gradient, and `extra` (the
// step's losses), becomes its average over the processes, in one bucketed
// all-reduce. Parameters without a gradient are skipped (alike on every process).
inline void average_gradients(Reducer &reducer, const std::vector<torch::Tensor> &params, const torch::Tensor &extra) {
  std::vector<torch::Tensor> sums;
  for (const auto &p : params)
    if (p.grad().defined())
      sums.push_back(p.grad());
  sums.push_back(extra);
  reducer.all_reduce_sum(sums);
  for (auto &g : sums)
    g.div_(reducer.world_size());
}

} // namespace prn
