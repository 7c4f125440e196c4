// CUDA kernel of stitch_tiles_: one thread per acc pixel, the tiles taken in
// order as on the CPU (deterministic, no atomics). On the current stream, under
// a device guard.
#include "../resize_math.h"
#include "../stitch_tiles_kernels.h"
#include "launch.cuh"

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace prn::ops::detail {
namespace {

__global__ void stitch_kernel(const float *__restrict__ maps, const int64_t *__restrict__ origins, int64_t N,
                              int64_t S, const float *__restrict__ window, int64_t T, float scale, float *acc,
                              int64_t as0, int64_t as1, float *weight, int64_t ws0, int64_t ws1, int64_t R,
                              int64_t W) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < R * W;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / W, c = i % W;
    float a = acc[r * as0 + c * as1], wt = weight[r * ws0 + c * ws1];
    for (int64_t n = 0; n < N; ++n) {
      const int64_t ty = r - origins[2 * n], tx = c - origins[2 * n + 1];
      if (ty < 0 || ty >= T || tx < 0 || tx >= T)
        continue;
      const float v = bilinear(maps + n * S * S, S, linear_tap(ty, S, scale), linear_tap(tx, S, scale));
      const float w = window[ty * T + tx];
      a += v * w;
      wt += w;
    }
    acc[r * as0 + c * as1] = a;
    weight[r * ws0 + c * ws1] = wt;
  }
}

} // namespace

void stitch_tiles_cuda(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window,
                       const at::Tensor &acc, const at::Tensor &weight) {
  c10::cuda::CUDAGuard guard(maps.device());
  const int64_t total = acc.size(0) * acc.size(1);
  const unsigned blocks = elementwise_blocks(total);
  stitch_kernel<<<blocks, kThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
      maps.data_ptr<float>(), origins.data_ptr<int64_t>(), maps.size(0), maps.size(2), window.data_ptr<float>(),
      window.size(0), resize_scale(maps.size(2), window.size(0)), acc.data_ptr<float>(), acc.stride(0),
      acc.stride(1), weight.data_ptr<float>(), weight.stride(0), weight.stride(1), acc.size(0), acc.size(1));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

} // namespace prn::ops::detail
