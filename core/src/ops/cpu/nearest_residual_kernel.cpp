// CPU kernels of the nearest-prototype residual op. Both read features and
// prototypes as flat per-image vectors in memory order, so they serve any
// layout the two share (check_shared_layout: NCHW or channels-last).
#include "../nearest_residual_kernels.h"

#include "internal/cpu_clones.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>

namespace prn::ops::detail {
namespace {

// Elements per partial sum. Fixed, so the summation order (and the result)
// does not depend on how many threads share the chunks.
constexpr int64_t kChunk = 1024;
// Independent float accumulators per chunk: the compiler vectorises the loop
// without reassociating a single running sum.
constexpr int kLanes = 16;

// part[b * K + k] = squared distance of elements [j0, j0 + n) of image b and
// prototype k (x: B images, p: K prototypes, D floats each), for every pair:
// the B + K slices stay in cache while the B * K pairs are summed.
PRN_CPU_CLONES
void chunk_distances(const float *x, const float *p, int64_t B, int64_t K, int64_t D, int64_t j0, int64_t n,
                     float *part) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t k = 0; k < K; ++k) {
      const float *xs = x + b * D + j0;
      const float *ps = p + k * D + j0;
      float acc[kLanes] = {};
      int64_t j = 0;
      for (; j + kLanes <= n; j += kLanes)
        for (int l = 0; l < kLanes; ++l) {
          const float d = xs[j + l] - ps[j + l];
          acc[l] += d * d;
        }
      for (int l = 0; j < n; ++j, ++l) {
        const float d = xs[j] - ps[j];
        acc[l] += d * d;
      }
      float total = 0.f;
      for (int l = 0; l < kLanes; ++l)
        total += acc[l];
      part[b * K + k] = total;
    }
  }
}

} // namespace

at::Tensor prototype_distances_cpu(const at::Tensor &features, const at::Tensor &prototypes) {
  const int64_t B = features.size(0), K = prototypes.size(0);
  const int64_t D = features.numel() / B;
  check_shared_layout(features, prototypes);
  const int64_t chunks = (D + kChunk - 1) / kChunk;
  // partial[c][b][k]: chunk c of image b against prototype k. One chunk per
  // task, every image against every prototype (chunk_distances), so features
  // and prototypes are read from memory once, not K and B times.
  auto partial = at::empty({chunks, B, K}, features.options());
  const float *xd = features.data_ptr<float>();
  const float *pd = prototypes.data_ptr<float>();
  float *part = partial.data_ptr<float>();
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, B * K * kChunk));
  at::parallel_for(0, chunks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t j0 = c * kChunk;
      chunk_distances(xd, pd, B, K, D, j0, std::min(kChunk, D - j0), part + c * B * K);
    }
  });
  auto out = at::empty({B, K}, features.options());
  float *od = out.data_ptr<float>();
  for (int64_t i = 0; i < B * K; ++i) {
    double total = 0.0;
    for (int64_t c = 0; c < chunks; ++c)
      total += part[c * B * K + i];
    od[i] = static_cast<float>(total);
  }
  return out;
}

at::Tensor gathered_residual_cpu(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index) {
  const int64_t B = features.size(0);
  const int64_t D = features.numel() / B;
  check_shared_layout(features, prototypes);
  auto idx = index.contiguous();
  auto out = at::empty_like(features, features.suggest_memory_format());
  const float *xd = features.data_ptr<float>();
  const float *pd = prototypes.data_ptr<float>();
  const int64_t *id = idx.data_ptr<int64_t>();
  float *od = out.data_ptr<float>();
  at::parallel_for(0, B * D, 16384, [&](int64_t begin, int64_t end) {
    // [begin, end) in runs that stay inside one image: one prototype row each.
    for (int64_t i = begin; i < end;) {
      const int64_t b = i / D, j = i - b * D, n = std::min(end - i, D - j);
      const float *xs = xd + i;
      const float *ps = pd + id[b] * D + j;
      float *os = od + i;
      for (int64_t t = 0; t < n; ++t) {
        const float d = xs[t] - ps[t];
        os[t] = d * d;
      }
      i += n;
    }
  });
  return out;
}

} // namespace prn::ops::detail
