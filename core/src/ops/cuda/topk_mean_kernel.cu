// CUDA kernel of the topk_mean op: one block per image. A radix select finds the
// k-th largest key (score_key of the float bits) in four passes of 8 bits, each
// a 256-bin histogram in shared memory of the keys that share the prefix found
// so far; a last pass sums, in double, the values above it, and the ties make
// up the rest of k. On the current stream under a device guard.
#include "../topk_mean_kernels.h"
#include "launch.cuh"

#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace prn::ops::detail {
namespace {

constexpr int kBins = 256;

__device__ inline uint32_t key_at(const float *x, int64_t i) { return score_key(__float_as_uint(x[i])); }

__global__ void topk_mean_kernel(const float *__restrict__ maps, float *__restrict__ out, int64_t N, int64_t k) {
  const float *x = maps + blockIdx.x * N;
  __shared__ uint32_t hist[kBins];
  __shared__ uint32_t prefix, prefix_mask;
  __shared__ int64_t wanted; // how many of the keys with this prefix are in the top k
  __shared__ double partial_sum[kThreads];
  __shared__ int64_t partial_count[kThreads];
  if (threadIdx.x == 0) {
    prefix = 0;
    prefix_mask = 0;
    wanted = k;
  }
  __syncthreads();

  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < kBins; i += blockDim.x)
      hist[i] = 0;
    __syncthreads();
    const uint32_t p = prefix, m = prefix_mask;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
      const uint32_t key = key_at(x, i);
      if ((key & m) == p)
        atomicAdd(&hist[(key >> shift) & 0xffu], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      // From the largest digit down: the digit whose bin holds the wanted-th key.
      int64_t above = 0;
      int digit = kBins - 1;
      for (; digit > 0; --digit) {
        if (above + hist[digit] >= wanted)
          break;
        above += hist[digit];
      }
      wanted -= above;
      prefix = p | (static_cast<uint32_t>(digit) << shift);
      prefix_mask = m | (0xffu << shift);
    }
    __syncthreads();
  }

  // prefix is now the k-th largest key.
  const uint32_t kth = prefix;
  double sum = 0.0;
  int64_t count = 0;
  for (int64_t i = threadIdx.x; i < N; i += blockDim.x)
    if (key_at(x, i) > kth) {
      sum += x[i];
      ++count;
    }
  partial_sum[threadIdx.x] = sum;
  partial_count[threadIdx.x] = count;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      partial_sum[threadIdx.x] += partial_sum[threadIdx.x + s];
      partial_count[threadIdx.x] += partial_count[threadIdx.x + s];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double total =
        partial_sum[0] + static_cast<double>(k - partial_count[0]) * __uint_as_float(score_bits(kth));
    out[blockIdx.x] = static_cast<float>(total / static_cast<double>(k));
  }
}

} // namespace

at::Tensor topk_mean_cuda(const at::Tensor &flat, int64_t k) {
  c10::cuda::CUDAGuard guard(flat.device());
  const int64_t B = flat.size(0), N = flat.size(1);
  auto out = at::empty({B}, flat.options());
  TORCH_CHECK(B <= 0x7fffffff, "topk_mean: expected at most 2^31 - 1 maps on CUDA, got ", B);
  auto stream = c10::cuda::getCurrentCUDAStream();
  topk_mean_kernel<<<static_cast<unsigned>(B), kThreads, 0, stream>>>(flat.data_ptr<float>(), out.data_ptr<float>(),
                                                                       N, k);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

} // namespace prn::ops::detail
