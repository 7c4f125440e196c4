// stitch_tiles_: checks and device dispatch.
#include "prn/ops/stitch_tiles.h"

#include "stitch_tiles_kernels.h"

namespace prn::ops {
namespace {

void check_inputs(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window, const at::Tensor &acc,
                  const at::Tensor &weight) {
  TORCH_CHECK(maps.defined() && origins.defined() && window.defined() && acc.defined() && weight.defined(),
              "stitch_tiles_: expected defined maps, origins, window, acc and weight");
  TORCH_CHECK(maps.dim() == 4 && maps.size(1) == 1 && maps.size(2) >= 1 && maps.size(2) == maps.size(3) &&
                  maps.scalar_type() == at::kFloat,
              "stitch_tiles_: expected maps as an (N, 1, S, S) float32 tensor, got ", maps.sizes(), " ",
              maps.scalar_type());
  TORCH_CHECK(origins.dim() == 2 && origins.size(0) == maps.size(0) && origins.size(1) == 2 &&
                  origins.scalar_type() == at::kLong,
              "stitch_tiles_: expected origins as an (", maps.size(0), ", 2) int64 tensor (one (row, column) per map), got ",
              origins.sizes(), " ", origins.scalar_type());
  TORCH_CHECK(window.dim() == 2 && window.size(0) >= 1 && window.size(0) == window.size(1) &&
                  window.scalar_type() == at::kFloat,
              "stitch_tiles_: expected a (T, T) float32 blending window, got ", window.sizes(), " ",
              window.scalar_type());
  TORCH_CHECK(acc.dim() == 2 && acc.scalar_type() == at::kFloat,
              "stitch_tiles_: expected acc as an (R, W) float32 tensor, got ", acc.sizes(), " ", acc.scalar_type());
  TORCH_CHECK(weight.sizes() == acc.sizes() && weight.scalar_type() == at::kFloat,
              "stitch_tiles_: expected weight as a ", acc.sizes(), " float32 tensor like acc, got ", weight.sizes(),
              " ", weight.scalar_type());
  for (const at::Tensor *t : {&origins, &window, &acc, &weight})
    TORCH_CHECK(t->device() == maps.device(), "stitch_tiles_: expected every tensor on the maps' device ",
                maps.device(), ", got one on ", t->device());
  TORCH_CHECK(maps.is_cpu() || maps.is_cuda(), "stitch_tiles_: expected tensors on the CPU or a CUDA device, got ",
              maps.device());
}

} // namespace

void stitch_tiles_(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window, const at::Tensor &acc,
                   const at::Tensor &weight) {
  check_inputs(maps, origins, window, acc, weight);
  if (maps.size(0) == 0 || acc.numel() == 0)
    return;
  if (maps.is_cpu())
    return detail::stitch_tiles_cpu(maps.contiguous(), origins.contiguous(), window.contiguous(), acc, weight);
#if PRN_WITH_CUDA
  detail::stitch_tiles_cuda(maps.contiguous(), origins.contiguous(), window.contiguous(), acc, weight);
#else
  TORCH_CHECK(false, "stitch_tiles_: expected tensors on the CPU in a build without the CUDA kernels (-Dcuda), got ",
              maps.device());
#endif
}

} // namespace prn::ops
