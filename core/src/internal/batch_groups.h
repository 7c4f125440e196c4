// prnanomaly core internals: running an inference step a few images at a time
// (shared by the model's CPU batches and the decoder's full-resolution tail).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace prn::detail {

// fn over x in consecutive groups of at most `group` images (dimension 0), the
// results concatenated along it; fn(x) itself when x fits in one group.
template <typename Fn> torch::Tensor in_groups(const torch::Tensor &x, int64_t group, Fn &&fn) {
  if (x.size(0) <= group)
    return fn(x);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += group)
    parts.push_back(fn(x.narrow(0, i, std::min(group, x.size(0) - i))));
  return torch::cat(parts, 0);
}

} // namespace prn::detail
