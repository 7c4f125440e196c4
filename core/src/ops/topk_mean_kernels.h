// Kernel entry points of the topk_mean op (internal).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace prn::ops::detail {

// The order of float scores as unsigned integers: a < b  <=>  key(a) < key(b)
// for numbers (-0 just below +0); every NaN maps to the largest key.
#if defined(__CUDACC__)
__host__ __device__
#endif
inline uint32_t score_key(uint32_t bits) {
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0u)
    return 0xffffffffu;
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// The inverse of score_key (the largest key gives a NaN).
#if defined(__CUDACC__)
__host__ __device__
#endif
inline uint32_t score_bits(uint32_t key) {
  return (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
}

// Both kernels compute, per image, the k-th largest key t, then
// sum(values with key > t) + (k - count(key > t)) * value(t), in double,
// divided by k.
// flat: (B, N) float32 contiguous, N >= 1; 1 <= k <= N. Returns (B) float32.
at::Tensor topk_mean_cpu(const at::Tensor &flat, int64_t k);

#if PRN_WITH_CUDA
at::Tensor topk_mean_cuda(const at::Tensor &flat, int64_t k);
#endif

} // namespace prn::ops::detail
