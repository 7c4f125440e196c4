// CPU kernel of the threshold_runs op: one scan of each row.
#include "../threshold_runs_kernels.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

namespace prn::ops::detail {

std::tuple<at::Tensor, at::Tensor> threshold_runs_cpu(const at::Tensor &rows, float threshold) {
  const int64_t n = rows.size(0), W = rows.size(1);
  const float *p = rows.data_ptr<float>();
  std::vector<int64_t> runs;
  std::vector<float> peaks;
  for (int64_t r = 0; r < n; ++r) {
    const float *s = p + r * W;
    for (int64_t x = 0; x < W;) {
      if (!(s[x] >= threshold)) {
        ++x;
        continue;
      }
      const int64_t x0 = x;
      float peak = s[x];
      while (x < W && s[x] >= threshold)
        peak = std::max(peak, s[x++]);
      runs.insert(runs.end(), {r, x0, x - 1});
      peaks.push_back(peak);
    }
  }
  const auto R = static_cast<int64_t>(peaks.size());
  at::Tensor out_runs = at::empty({R, 3}, rows.options().dtype(at::kLong));
  at::Tensor out_peaks = at::empty({R}, rows.options());
  std::copy(runs.begin(), runs.end(), out_runs.data_ptr<int64_t>());
  std::copy(peaks.begin(), peaks.end(), out_peaks.data_ptr<float>());
  return {out_runs, out_peaks};
}

} // namespace prn::ops::detail
