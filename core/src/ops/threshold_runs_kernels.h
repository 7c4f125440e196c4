// Kernel entry points of the threshold_runs op (internal).
#pragma once

#include <ATen/core/Tensor.h>

#include <tuple>

namespace prn::ops::detail {

// rows: (n, W) float32 contiguous. Returns (runs (R, 3) int64, peaks (R) float32).
std::tuple<at::Tensor, at::Tensor> threshold_runs_cpu(const at::Tensor &rows, float threshold);

#if PRN_WITH_CUDA
std::tuple<at::Tensor, at::Tensor> threshold_runs_cuda(const at::Tensor &rows, float threshold);
#endif

} // namespace prn::ops::detail
