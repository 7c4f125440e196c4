// topk_mean: checks and device dispatch.
#include "prn/ops/topk_mean.h"

#include "topk_mean_kernels.h"

namespace prn::ops {

at::Tensor topk_mean(const at::Tensor &maps, int64_t k) {
  TORCH_CHECK(maps.defined(), "topk_mean: expected a defined maps tensor");
  TORCH_CHECK(maps.dim() == 3 || (maps.dim() == 4 && maps.size(1) == 1),
              "topk_mean: expected maps of shape (B, 1, H, W) or (B, H, W), got ", maps.sizes());
  TORCH_CHECK(maps.scalar_type() == at::kFloat, "topk_mean: expected float32 maps, got ", maps.scalar_type());
  TORCH_CHECK(k >= 1, "topk_mean: expected k >= 1, got ", k);
  const int64_t B = maps.size(0);
  const int64_t N = maps.size(-1) * maps.size(-2);
  TORCH_CHECK(N >= 1, "topk_mean: expected maps with at least one pixel, got ", maps.sizes());
  if (B == 0)
    return at::empty({0}, maps.options());
  const int64_t kk = std::min(k, N);
  const at::Tensor flat = maps.reshape({B, N}).contiguous();
  if (flat.is_cpu())
    return detail::topk_mean_cpu(flat, kk);
#if PRN_WITH_CUDA
  if (flat.is_cuda())
    return detail::topk_mean_cuda(flat, kk);
#endif
  return std::get<0>(flat.topk(kk, 1, true, false)).to(at::kDouble).sum(1).div(static_cast<double>(kk)).to(at::kFloat);
}

} // namespace prn::ops
