// CPU kernel of stitch_tiles_: one task per block of acc rows; every pixel takes
// the tiles in order, so the sums do not depend on the thread count.
#include "../resize_math.h"
#include "../stitch_tiles_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace prn::ops::detail {

void stitch_tiles_cpu(const at::Tensor &maps, const at::Tensor &origins, const at::Tensor &window,
                      const at::Tensor &acc, const at::Tensor &weight) {
  const int64_t N = maps.size(0), S = maps.size(2), T = window.size(0), R = acc.size(0), W = acc.size(1);
  const float scale = resize_scale(S, T);
  std::vector<LinearTap> taps(static_cast<size_t>(T));
  for (int64_t i = 0; i < T; ++i)
    taps[i] = linear_tap(i, S, scale);
  const float *m = maps.data_ptr<float>(), *win = window.data_ptr<float>();
  const int64_t *org = origins.data_ptr<int64_t>();
  float *a = acc.data_ptr<float>(), *wt = weight.data_ptr<float>();
  const int64_t as0 = acc.stride(0), as1 = acc.stride(1), ws0 = weight.stride(0), ws1 = weight.stride(1);

  at::parallel_for(0, R, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t n = 0; n < N; ++n) {
        const int64_t ty = r - org[2 * n], ox = org[2 * n + 1];
        if (ty < 0 || ty >= T)
          continue;
        const float *map = m + n * S * S;
        for (int64_t c = std::max<int64_t>(ox, 0), c1 = std::min(ox + T, W); c < c1; ++c) {
          const int64_t tx = c - ox;
          const float v = bilinear(map, S, taps[ty], taps[tx]), w = win[ty * T + tx];
          a[r * as0 + c * as1] += v * w;
          wt[r * ws0 + c * ws1] += w;
        }
      }
  });
}

} // namespace prn::ops::detail
