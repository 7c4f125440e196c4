// CUDA kernel of tiles_from_rows: one thread per output pixel (all three
// channels), the same taps as the CPU kernel (resize_math.h), the horizontal
// sums inside the vertical one. On the current stream, under a device guard.
#include "../resize_math.h"
#include "../tiles_from_rows_kernels.h"
#include "launch.cuh"

#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace prn::ops::detail {
namespace {

// The taps of every output index of one axis (max_taps weights each).
__global__ void aa_table_kernel(AaParams p, int64_t in_size, int64_t out_size, float *__restrict__ w,
                                int64_t *__restrict__ start, int64_t *__restrict__ count) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= out_size)
    return;
  int64_t xmin = 0;
  count[i] = aa_weights(i, in_size, p, w + i * p.max_taps, xmin);
  start[i] = xmin;
}

__global__ void tiles_kernel(const uint8_t *__restrict__ src, int64_t R, int64_t pitch, PackedLayout layout,
                             int64_t width, const int64_t *__restrict__ origins, int64_t N, int64_t S,
                             const float *__restrict__ w, const int64_t *__restrict__ start,
                             const int64_t *__restrict__ count, int64_t taps, float *__restrict__ out) {
  const int64_t total = N * S * S;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ox2 = i % S, oy2 = (i / S) % S, n = i / (S * S);
    const int64_t oy = origins[2 * n], ox = origins[2 * n + 1];
    const float *wy = w + oy2 * taps, *wx = w + ox2 * taps;
    const int64_t y0 = start[oy2], x0 = start[ox2], ny = count[oy2], nx = count[ox2];
    float r = 0.f, g = 0.f, b = 0.f;
    for (int64_t j = 0; j < ny; ++j) {
      const uint8_t *line = src + clamp_index(oy + y0 + j, R) * pitch;
      float hr = 0.f, hg = 0.f, hb = 0.f;
      for (int64_t k = 0; k < nx; ++k) {
        const uint8_t *p = line + clamp_index(ox + x0 + k, width) * layout.bytes_per_pixel;
        hr += static_cast<float>(p[layout.rgb[0]]) / 255.f * wx[k];
        hg += static_cast<float>(p[layout.rgb[1]]) / 255.f * wx[k];
        hb += static_cast<float>(p[layout.rgb[2]]) / 255.f * wx[k];
      }
      r += hr * wy[j];
      g += hg * wy[j];
      b += hb * wy[j];
    }
    float *o = out + n * 3 * S * S + oy2 * S + ox2;
    o[0] = r;
    o[S * S] = g;
    o[2 * S * S] = b;
  }
}

} // namespace

at::Tensor tiles_from_rows_cuda(const at::Tensor &rows, const PackedLayout &layout, int64_t width,
                                const at::Tensor &origins, int64_t tile, int64_t size) {
  c10::cuda::CUDAGuard guard(rows.device());
  auto stream = c10::cuda::getCurrentCUDAStream();
  const int64_t N = origins.size(0), S = size;
  const AaParams p = aa_params(tile, S);
  auto weights = at::empty({S, p.max_taps}, rows.options().dtype(at::kFloat));
  auto start = at::empty({S}, rows.options().dtype(at::kLong));
  auto count = at::empty({S}, rows.options().dtype(at::kLong));
  aa_table_kernel<<<elementwise_blocks(S), kThreads, 0, stream>>>(p, tile, S, weights.data_ptr<float>(),
                                                          start.data_ptr<int64_t>(), count.data_ptr<int64_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  auto out = at::empty({N, 3, S, S}, rows.options().dtype(at::kFloat));
  tiles_kernel<<<elementwise_blocks(N * S * S), kThreads, 0, stream>>>(
      rows.data_ptr<uint8_t>(), rows.size(0), rows.size(1), layout, width, origins.data_ptr<int64_t>(), N, S,
      weights.data_ptr<float>(), start.data_ptr<int64_t>(), count.data_ptr<int64_t>(), p.max_taps,
      out.data_ptr<float>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

} // namespace prn::ops::detail
