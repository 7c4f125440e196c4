// CPU kernel of the topk_mean op: per image, the k-th largest key by
// std::nth_element, then the sum above it plus the ties, in double.
#include "../topk_mean_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <vector>

namespace prn::ops::detail {

at::Tensor topk_mean_cpu(const at::Tensor &flat, int64_t k) {
  const int64_t B = flat.size(0), N = flat.size(1);
  auto out = at::empty({B}, flat.options());
  const float *src = flat.data_ptr<float>();
  float *dst = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
    std::vector<uint32_t> keys(static_cast<size_t>(N));
    for (int64_t b = begin; b < end; ++b) {
      const float *x = src + b * N;
      for (int64_t i = 0; i < N; ++i)
        keys[static_cast<size_t>(i)] = score_key(std::bit_cast<uint32_t>(x[i]));
      std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end(), std::greater<uint32_t>());
      const uint32_t kth = keys[static_cast<size_t>(k - 1)];
      double total = 0.0;
      int64_t above = 0;
      for (int64_t i = 0; i < N; ++i)
        if (score_key(std::bit_cast<uint32_t>(x[i])) > kth) {
          total += x[i];
          ++above;
        }
      total += static_cast<double>(k - above) * std::bit_cast<float>(score_bits(kth));
      dst[b] = static_cast<float>(total / static_cast<double>(k));
    }
  });
  return out;
}

} // namespace prn::ops::detail
