// CPU kernels of the nearest-prototype residual op.
#include "../nearest_residual_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace prn::ops::detail {

at::Tensor prototype_distances_cpu(const at::Tensor &features, const at::Tensor &prototypes) {
  const int64_t B = features.size(0), K = prototypes.size(0);
  const int64_t D = features.numel() / B;
  auto x = features.contiguous();
  auto p = prototypes.contiguous();
  auto out = at::empty({B, K}, features.options());
  const float *xd = x.data_ptr<float>();
  const float *pd = p.data_ptr<float>();
  float *od = out.data_ptr<float>();
  // One (image, prototype) pair per task; each sum runs in one thread, in a
  // fixed order, so the result does not depend on the thread count.
  at::parallel_for(0, B * K, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float *a = xd + (i / K) * D;
      const float *b = pd + (i % K) * D;
      double total = 0.0;
      constexpr int64_t kChunk = 1024;
      for (int64_t c0 = 0; c0 < D; c0 += kChunk) {
        const int64_t c1 = std::min(D, c0 + kChunk);
        float partial = 0.f;
        for (int64_t j = c0; j < c1; ++j) {
          const float d = a[j] - b[j];
          partial += d * d;
        }
        total += partial;
      }
      od[i] = static_cast<float>(total);
    }
  });
  return out;
}

at::Tensor gathered_residual_cpu(const at::Tensor &features, const at::Tensor &prototypes, const at::Tensor &index) {
  const int64_t B = features.size(0);
  const int64_t D = features.numel() / B;
  auto x = features.contiguous();
  auto p = prototypes.contiguous();
  auto idx = index.contiguous();
  auto out = at::empty_like(x);
  const float *xd = x.data_ptr<float>();
  const float *pd = p.data_ptr<float>();
  const int64_t *id = idx.data_ptr<int64_t>();
  float *od = out.data_ptr<float>();
  at::parallel_for(0, B * D, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / D, j = i % D;
      const float d = xd[i] - pd[id[b] * D + j];
      od[i] = d * d;
    }
  });
  return out;
}

} // namespace prn::ops::detail
