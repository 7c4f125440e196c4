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

} // namespace prn
