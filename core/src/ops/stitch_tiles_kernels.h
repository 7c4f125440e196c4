// Kernel entry points of the stitch_tiles_ op (internal). Inputs are checked;
// maps, origins and window contiguous; acc and weight (R, W) strided views that
// are written in place.
#pragma once

#include <ATen/core/Tensor.h>

namespace prn::ops::detail {

void stitch_tiles_cpu(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window,
                      const at::Tensor &acc, const at::Tensor &weight);

#if PRN_WITH_CUDA
void stitch_tiles_cuda(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window,
                       const at::Tensor &acc, const at::Tensor &weight);
#endif

} // namespace prn::ops::detail
