// prnanomaly op: the horizontal runs of pixels at or above a threshold.
#pragma once

#include <ATen/ATen.h>

#include <tuple>

namespace prn::ops {

// rows: (n, W) float32 scores. A run is a maximal horizontal stretch of pixels
// with score >= threshold (NaN never is) in one row. Returns, on the rows'
// device, (runs (R, 3) int64: row, x0, x1 with x1 inclusive; peaks (R) float32:
// the highest score of each run), in row-major order (by row, then x0). This is
// what RegionTracker labels. CPU, or a CUDA kernel when built with one (the runs
// are made on the device; only they come back), else on the CPU and copied.
std::tuple<at::Tensor, at::Tensor> threshold_runs(const at::Tensor &rows, float threshold);

} // namespace prn::ops
