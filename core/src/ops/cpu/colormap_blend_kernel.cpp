// CPU kernel of the colormap_blend op: the plain C++ twin of
// prn/ops/colormap_blend_core.h, the code prnoverlay runs too.
#include "../colormap_blend_kernels.h"

#include <ATen/ATen.h>

namespace prn::ops::detail {

void colormap_blend_cpu(const PackedFrame &frame, const HeatmapView &heat, const BlendStyle &style) {
  HeatmapBlender blender;
  blender.blend(frame, heat, style);
}

} // namespace prn::ops::detail
