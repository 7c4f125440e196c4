// threshold_runs: checks and device dispatch.
#include "prn/ops/threshold_runs.h"

#include "threshold_runs_kernels.h"

namespace prn::ops {

std::tuple<at::Tensor, at::Tensor> threshold_runs(const at::Tensor &rows, float threshold) {
  TORCH_CHECK(rows.defined(), "threshold_runs: expected a defined rows tensor");
  TORCH_CHECK(rows.dim() == 2, "threshold_runs: expected rows of shape (n, W), got ", rows.sizes());
  TORCH_CHECK(rows.scalar_type() == at::kFloat, "threshold_runs: expected float32 rows, got ", rows.scalar_type());
  const at::Tensor c = rows.contiguous();
  if (c.is_cpu())
    return detail::threshold_runs_cpu(c, threshold);
#if PRN_WITH_CUDA
  if (c.is_cuda())
    return detail::threshold_runs_cuda(c, threshold);
#endif
  auto [runs, peaks] = detail::threshold_runs_cpu(c.cpu(), threshold);
  return {runs.to(rows.device()), peaks.to(rows.device())};
}

} // namespace prn::ops
