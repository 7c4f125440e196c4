// Kernel entry points of the tiles_from_rows op (internal). Inputs are checked
// and contiguous; rows (R, pitch) uint8, origins (N, 2) int64.
#pragma once

#include "packed_layout.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace prn::ops::detail {

at::Tensor tiles_from_rows_cpu(const at::Tensor &rows, const PackedLayout &layout, int64_t width,
                               const at::Tensor &origins, int64_t tile, int64_t size);

#if PRN_WITH_CUDA
at::Tensor tiles_from_rows_cuda(const at::Tensor &rows, const PackedLayout &layout, int64_t width,
                                const at::Tensor &origins, int64_t tile, int64_t size);
#endif

} // namespace prn::ops::detail
