// CUDA kernel of the colormap_blend op: one thread per frame pixel, running the
// per-pixel functions of prn/ops/colormap_blend_core.h (the CPU twin's own), on
// the current stream under a device guard.
#include "../colormap_blend_kernels.h"
#include "launch.cuh"

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cstring>

namespace prn::ops::detail {
namespace {

// The colour table and the blend weight of each index, passed by value (1.8 KB
// of kernel parameters) and staged in shared memory by each block.
struct BlendTables {
  uint8_t lut[256 * 3];
  uint32_t weight[256];
};

__global__ void colormap_blend_kernel(PackedFrame frame, HeatmapView heat, double min_score, double span,
                                      BlendTables tables) {
  __shared__ uint8_t lut[256 * 3];
  __shared__ uint32_t weight[256];
  for (int i = threadIdx.x; i < 256 * 3; i += blockDim.x)
    lut[i] = tables.lut[i];
  for (int i = threadIdx.x; i < 256; i += blockDim.x)
    weight[i] = tables.weight[i];
  __syncthreads();

  const int64_t total = frame.width * frame.height;
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < total;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t y = p / frame.width, x = p % frame.width;
    const int64_t row = heatmap_row(y, frame.height, heat.height);
    const int64_t col = heatmap_column(x, heat.scale_x, heat.width);
    const int i = lut_index(heat.data[row * heat.width + col], min_score, span);
    if (i > 0)
      blend_pixel(frame.data + y * frame.stride + x * frame.pixel_stride, lut + 3 * i, weight[i], frame.r, frame.g,
                  frame.b);
  }
}

} // namespace

void colormap_blend_cuda(const PackedFrame &frame, const HeatmapView &heat, const BlendStyle &style,
                         at::Device device) {
  const int64_t total = frame.width * frame.height;
  if (total == 0 || !blend_draws(style))
    return;
  c10::cuda::CUDAGuard guard(device);
  BlendTables tables;
  std::memcpy(tables.lut, style.lut, sizeof(tables.lut));
  for (int i = 0; i < 256; i++)
    tables.weight[i] = blend_weight(style.alpha, i);
  const unsigned blocks = elementwise_blocks(total);
  auto stream = c10::cuda::getCurrentCUDAStream();
  colormap_blend_kernel<<<blocks, kThreads, 0, stream>>>(
      frame, heat, style.min_score, 1.0 - style.min_score, tables);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

} // namespace prn::ops::detail
