// Kernel entry points of the nearest-prototype residual op (internal).
#pragma once

#include <ATen/core/Tensor.h>

namespace prn::ops::detail {

// Every kernel reads each image and each prototype as one flat vector in the
// memory layout the two share (NCHW or channels-last; the dispatch,
// ops/nearest_residual.cpp, converts the prototypes to the features' layout
// once when theirs differs) and writes the residual in that layout.
inline void check_shared_layout(const at::Tensor &features, const at::Tensor &prototypes) {
  const auto layout = features.suggest_memory_format();
  TORCH_CHECK(features.is_contiguous(layout) && prototypes.is_contiguous(layout),
              "nearest_prototype_residual kernels: expected features and prototypes dense in one memory layout, got "
              "strides ",
              features.strides(), " and ", prototypes.strides());
}

// Squared L2 distance of every image to every prototype: (B, K) float32.
at::Tensor prototype_distances_cpu(const at::Tensor &features, const at::Tensor &prototypes);
// residual = (features - prototypes[index])^2, index (B) int64.
at::Tensor gathered_residual_cpu(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index);

#if PRN_WITH_CUDA
at::Tensor prototype_distances_cuda(const at::Tensor &features, const at::Tensor &prototypes);
at::Tensor gathered_residual_cuda(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index);
#endif

} // namespace prn::ops::detail
