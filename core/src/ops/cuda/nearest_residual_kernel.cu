// CUDA kernels of the nearest-prototype residual op: on the current stream,
// under a device guard.
#include "../nearest_residual_kernels.h"
#include "launch.cuh"

#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace prn::ops::detail {
namespace {

// One block per (image, prototype) pair: a tree reduction of squared
// differences (fixed order for a fixed launch: deterministic).
__global__ void distances_kernel(const float *__restrict__ x, const float *__restrict__ p, float *__restrict__ out,
                                 int64_t K, int64_t D) {
  const int64_t pair = blockIdx.x;
  const float *a = x + (pair / K) * D;
  const float *b = p + (pair % K) * D;
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
    const float d = a[j] - b[j];
    acc += static_cast<double>(d) * d;
  }
  __shared__ double shared[kThreads];
  shared[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    out[pair] = static_cast<float>(shared[0]);
}

__global__ void residual_kernel(const float *__restrict__ x, const float *__restrict__ p,
                                const int64_t *__restrict__ index, float *__restrict__ out, int64_t total,
                                int64_t D) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t b = i / D, j = i % D;
    const float d = x[i] - p[index[b] * D + j];
    out[i] = d * d;
  }
}

} // namespace

at::Tensor prototype_distances_cuda(const at::Tensor &features, const at::Tensor &prototypes) {
  c10::cuda::CUDAGuard guard(features.device());
  const int64_t B = features.size(0), K = prototypes.size(0);
  const int64_t D = features.numel() / B;
  check_shared_layout(features, prototypes);
  auto out = at::empty({B, K}, features.options());
  if (B * K == 0)
    return out;
  auto stream = c10::cuda::getCurrentCUDAStream();
  distances_kernel<<<static_cast<unsigned>(B * K), kThreads, 0, stream>>>(
      features.data_ptr<float>(), prototypes.data_ptr<float>(), out.data_ptr<float>(), K, D);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor gathered_residual_cuda(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index) {
  c10::cuda::CUDAGuard guard(features.device());
  const int64_t B = features.size(0);
  const int64_t D = features.numel() / B;
  check_shared_layout(features, prototypes);
  auto idx = index.contiguous();
  auto out = at::empty_like(features, features.suggest_memory_format());
  const int64_t total = features.numel();
  if (total == 0)
    return out;
  const unsigned blocks = elementwise_blocks(total);
  auto stream = c10::cuda::getCurrentCUDAStream();
  residual_kernel<<<blocks, kThreads, 0, stream>>>(
      features.data_ptr<float>(), prototypes.data_ptr<float>(), idx.data_ptr<int64_t>(), out.data_ptr<float>(), total,
      D);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

} // namespace prn::ops::detail
