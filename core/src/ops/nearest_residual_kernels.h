// Kernel entry points of the nearest-prototype residual op (internal).
#pragma once

#include <ATen/core/Tensor.h>

namespace prn::ops::detail {

// Every kernel reads each image and each prototype as one flat vector in the
// memory layout of `features` (NCHW or channels-last; the prototypes are
// converted to it when theirs differs) and writes the residual in that layout.

// Squared L2 distance of every image to every prototype: (B, K) float32.
at::Tensor prototype_distances_cpu(const at::Tensor &features, const at::Tensor &prototypes);
// residual = (features - prototypes[index])^2, index (B) int64.
at::Tensor gathered_residual_cpu(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index);

#if PRN_WITH_CUDA
at::Tensor prototype_distances_cuda(const at::Tensor &features, const at::Tensor &prototypes);
at::Tensor gathered_residual_cuda(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index);
#endif

} // namespace prn::ops::detail
