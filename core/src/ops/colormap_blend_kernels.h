// Kernel entry points of the colormap_blend op (internal).
#pragma once

#include "prn/ops/colormap_blend_core.h"

#include <ATen/core/Tensor.h>

namespace prn::ops::detail {

// frame and heat point to CPU memory; style.lut to a 768-byte table.
void colormap_blend_cpu(const PackedFrame &frame, const HeatmapView &heat, const BlendStyle &style);

#if PRN_WITH_CUDA
// frame.data and heat.data are memory of the CUDA device `device`; style.lut is
// host memory (the kernel gets the table as an argument).
void colormap_blend_cuda(const PackedFrame &frame, const HeatmapView &heat, const BlendStyle &style,
                         at::Device device);
#endif

} // namespace prn::ops::detail
