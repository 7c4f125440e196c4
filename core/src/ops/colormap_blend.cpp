// colormap_blend: checks and device dispatch. The CPU path is the plain C++
// twin in prn/ops/colormap_blend_core.h (shared with prnoverlay).
#include "prn/ops/colormap_blend.h"

#include "colormap_blend_kernels.h"
#include "packed_layout.h"

#include <cmath>

namespace prn::ops {
namespace {

detail::PackedLayout blend_layout_of(prn::stream::PixelFormat f) {
  using prn::stream::PixelFormat;
  TORCH_CHECK(f == PixelFormat::RGB || f == PixelFormat::BGR || f == PixelFormat::RGBx || f == PixelFormat::BGRx ||
                  f == PixelFormat::RGBA || f == PixelFormat::BGRA,
              "colormap_blend_: expected an RGB-family pixel format (RGB, BGR, RGBx, BGRx, RGBA, BGRA), got ",
              prn::stream::pixel_format_name(f));
  return detail::packed_layout_of(f);
}

void check_inputs(const at::Tensor &frame, const at::Tensor &heatmap, const detail::PackedLayout &layout,
                  const ColormapBlendOptions &o) {
  TORCH_CHECK(frame.defined() && heatmap.defined(), "colormap_blend_: expected defined frame and heatmap tensors");
  TORCH_CHECK(frame.dim() == 3 && frame.size(2) == layout.bytes_per_pixel,
              "colormap_blend_: expected a frame of shape (H, W, ", layout.bytes_per_pixel,
              ") for its pixel format, got ", frame.sizes());
  TORCH_CHECK(frame.scalar_type() == at::kByte, "colormap_blend_: expected a uint8 frame, got ",
              frame.scalar_type());
  TORCH_CHECK(frame.stride(2) == 1 && (frame.size(1) <= 1 || frame.stride(1) == layout.bytes_per_pixel) &&
                  (frame.size(0) <= 1 || frame.stride(0) >= frame.size(1) * layout.bytes_per_pixel),
              "colormap_blend_: expected packed pixels (strides (>= ", frame.size(1) * layout.bytes_per_pixel, ", ",
              layout.bytes_per_pixel, ", 1)), got strides ", frame.strides());
  TORCH_CHECK(heatmap.dim() == 2 && heatmap.size(0) >= 1 && heatmap.size(1) >= 1,
              "colormap_blend_: expected a non-empty heatmap of shape (h, w), got ", heatmap.sizes());
  TORCH_CHECK(heatmap.scalar_type() == at::kFloat, "colormap_blend_: expected a float32 heatmap, got ",
              heatmap.scalar_type());
  TORCH_CHECK(frame.device() == heatmap.device(), "colormap_blend_: expected frame and heatmap on one device, got ",
              frame.device(), " and ", heatmap.device());
  TORCH_CHECK(o.alpha >= 0.0 && o.alpha <= 1.0, "colormap_blend_: expected alpha in [0, 1], got ", o.alpha);
  TORCH_CHECK(o.scale_x > 0.0 && std::isfinite(o.scale_x), "colormap_blend_: expected a finite scale_x > 0, got ",
              o.scale_x);
  TORCH_CHECK(!std::isnan(o.min_score), "colormap_blend_: expected a min_score that is a number, got ",
              o.min_score);
}

} // namespace

at::Tensor colormap_blend_(const at::Tensor &frame, const at::Tensor &heatmap, prn::stream::PixelFormat format,
                           const ColormapBlendOptions &options) {
  const detail::PackedLayout layout = blend_layout_of(format);
  check_inputs(frame, heatmap, layout, options);
  const ColormapLut &lut = colormap_lut(options.colormap);
  const BlendStyle style{options.min_score, options.alpha, lut.data()};
  if (frame.numel() == 0 || !blend_draws(style))
    return frame;

  // Anywhere but the CPU and a CUDA kernel: the CPU twin on copies.
  const bool on_cpu = frame.is_cpu();
#if PRN_WITH_CUDA
  const bool on_cuda_kernel = frame.is_cuda();
#else
  const bool on_cuda_kernel = false;
#endif
  at::Tensor work = on_cpu || on_cuda_kernel ? frame : frame.cpu();
  const at::Tensor heat = (on_cpu || on_cuda_kernel ? heatmap : heatmap.cpu()).contiguous();

  PackedFrame pf;
  pf.data = work.data_ptr<uint8_t>();
  pf.stride = work.size(0) > 1 ? work.stride(0) : work.size(1) * layout.bytes_per_pixel;
  pf.width = work.size(1);
  pf.height = work.size(0);
  pf.pixel_stride = static_cast<int>(layout.bytes_per_pixel);
  pf.r = static_cast<int>(layout.rgb[0]);
  pf.g = static_cast<int>(layout.rgb[1]);
  pf.b = static_cast<int>(layout.rgb[2]);
  const HeatmapView hv{heat.data_ptr<float>(), heat.size(1), heat.size(0), options.scale_x};

#if PRN_WITH_CUDA
  if (on_cuda_kernel) {
    detail::colormap_blend_cuda(pf, hv, style, frame.device());
    return frame;
  }
#endif
  detail::colormap_blend_cpu(pf, hv, style);
  if (!on_cpu)
    frame.copy_(work);
  return frame;
}

} // namespace prn::ops
