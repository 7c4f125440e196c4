// CUDA kernels of the threshold_runs op, one block per row, on the current
// stream under a device guard. Each thread owns a contiguous chunk of the row; a
// run starts at x when rows[x] >= threshold and x == 0 or rows[x - 1] is not.
//   1. count_runs: the runs of each row (block sum of each thread's starts);
//   2. their prefix sum (ATen) gives each row's first output slot, and the total
//      (the one device-to-host copy) sizes the outputs;
//   3. write_runs: a block scan of the per-thread starts gives each run its slot
//      in row-major order; the thread of a start walks to the run's end (past
//      its chunk if need be) for x1 and the peak.
#include "../threshold_runs_kernels.h"
#include "launch.cuh"

#include <ATen/TensorOperators.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

namespace prn::ops::detail {
namespace {

struct Chunk {
  int64_t begin, end;
};

__device__ inline Chunk chunk_of(int64_t W) {
  const int64_t size = (W + blockDim.x - 1) / blockDim.x;
  const int64_t begin = min(W, size * threadIdx.x);
  return {begin, min(W, begin + size)};
}

__device__ inline bool hot(const float *s, int64_t x, float threshold) { return s[x] >= threshold; }

__device__ inline bool starts_run(const float *s, int64_t x, float threshold) {
  return hot(s, x, threshold) && (x == 0 || !hot(s, x - 1, threshold));
}

__device__ inline int64_t starts_in(const float *s, Chunk c, float threshold) {
  int64_t n = 0;
  for (int64_t x = c.begin; x < c.end; ++x)
    n += starts_run(s, x, threshold);
  return n;
}

__global__ void count_runs(const float *__restrict__ rows, int64_t W, float threshold, int64_t *__restrict__ counts) {
  const float *s = rows + blockIdx.x * W;
  __shared__ int64_t partial[kThreads];
  partial[threadIdx.x] = starts_in(s, chunk_of(W), threshold);
  __syncthreads();
  for (int step = blockDim.x / 2; step > 0; step >>= 1) {
    if (threadIdx.x < step)
      partial[threadIdx.x] += partial[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    counts[blockIdx.x] = partial[0];
}

__global__ void write_runs(const float *__restrict__ rows, int64_t W, float threshold,
                           const int64_t *__restrict__ first_slot, int64_t *__restrict__ runs,
                           float *__restrict__ peaks) {
  const float *s = rows + blockIdx.x * W;
  const Chunk c = chunk_of(W);
  const int64_t mine = starts_in(s, c, threshold);
  // Inclusive Hillis-Steele scan of the per-thread counts.
  __shared__ int64_t scan[kThreads];
  scan[threadIdx.x] = mine;
  __syncthreads();
  for (int step = 1; step < blockDim.x; step <<= 1) {
    const int64_t add = threadIdx.x >= step ? scan[threadIdx.x - step] : 0;
    __syncthreads();
    scan[threadIdx.x] += add;
    __syncthreads();
  }
  int64_t slot = first_slot[blockIdx.x] + scan[threadIdx.x] - mine;
  for (int64_t x = c.begin; x < c.end; ++x) {
    if (!starts_run(s, x, threshold))
      continue;
    int64_t x1 = x;
    float peak = s[x];
    while (x1 + 1 < W && hot(s, x1 + 1, threshold)) {
      ++x1;
      peak = peak < s[x1] ? s[x1] : peak; // std::max(peak, s[x1]), as the CPU twin
    }
    runs[slot * 3 + 0] = blockIdx.x;
    runs[slot * 3 + 1] = x;
    runs[slot * 3 + 2] = x1;
    peaks[slot] = peak;
    ++slot;
  }
}

} // namespace

std::tuple<at::Tensor, at::Tensor> threshold_runs_cuda(const at::Tensor &rows, float threshold) {
  c10::cuda::CUDAGuard guard(rows.device());
  const int64_t n = rows.size(0), W = rows.size(1);
  const auto long_opts = rows.options().dtype(at::kLong);
  if (n == 0 || W == 0)
    return {at::empty({0, 3}, long_opts), at::empty({0}, rows.options())};
  TORCH_CHECK(n <= 0x7fffffff, "threshold_runs: expected at most 2^31 - 1 rows on CUDA, got ", n);
  auto stream = c10::cuda::getCurrentCUDAStream();
  at::Tensor counts = at::empty({n}, long_opts);
  count_runs<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(rows.data_ptr<float>(), W, threshold,
                                                                 counts.data_ptr<int64_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const at::Tensor ends = counts.cumsum(0);
  const int64_t total = ends[n - 1].item<int64_t>();
  at::Tensor runs = at::empty({total, 3}, long_opts);
  at::Tensor peaks = at::empty({total}, rows.options());
  if (total == 0)
    return {runs, peaks};
  const at::Tensor first_slot = ends - counts;
  write_runs<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(rows.data_ptr<float>(), W, threshold,
                                                                 first_slot.data_ptr<int64_t>(),
                                                                 runs.data_ptr<int64_t>(), peaks.data_ptr<float>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {runs, peaks};
}

} // namespace prn::ops::detail
