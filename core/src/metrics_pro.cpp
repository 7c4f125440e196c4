// AUPRO (MVTec AD's per-region overlap) with 8-connected labelling of the masks.
#include "prn/metrics.h"

#include "prn/error.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace prn {

namespace {

// (N, H, W) view of an (N, H, W) or (N, 1, H, W) tensor.
torch::Tensor as_nhw(const torch::Tensor &t, const char *what) {
  PRN_CHECK(t.defined(), "aupro: expected ", what, " of shape (N, H, W) or (N, 1, H, W), got an undefined tensor");
  PRN_CHECK(t.dim() == 3 || (t.dim() == 4 && t.size(1) == 1), "aupro: expected ", what,
            " of shape (N, H, W) or (N, 1, H, W), got ", t.sizes());
  return t.dim() == 4 ? t.squeeze(1) : t;
}

// Labels the 8-connected components of the binary h x w image fg: region[p] is
// first_id + k for the k-th component found (row-major scan order) and -1 for a
// background pixel. Appends each component's pixel count to sizes.
void label_8connected(const bool *fg, int64_t h, int64_t w, int32_t *region, int32_t first_id,
                      std::vector<int64_t> &sizes, std::vector<int64_t> &stack) {
  std::fill(region, region + h * w, -1);
  int32_t next = first_id;
  for (int64_t start = 0; start < h * w; ++start) {
    if (!fg[start] || region[start] >= 0)
      continue;
    const int32_t id = next++;
    int64_t size = 0;
    region[start] = id;
    stack.assign(1, start);
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      ++size;
      const int64_t r = p / w, c = p % w;
      for (int64_t dr = -1; dr <= 1; ++dr) {
        const int64_t rr = r + dr;
        if (rr < 0 || rr >= h)
          continue;
        for (int64_t dc = -1; dc <= 1; ++dc) {
          const int64_t cc = c + dc;
          if (cc < 0 || cc >= w)
            continue;
          const int64_t q = rr * w + cc;
          if (fg[q] && region[q] < 0) {
            region[q] = id;
            stack.push_back(q);
          }
        }
      }
    }
    sizes.push_back(size);
  }
}

// One pixel for the sort: its score and its region (-1: normal pixel).
template <typename T>
struct Pixel {
  T score;
  int32_t region;
};

// Sweeps the thresholds over the distinct scores, descending, and builds the
// PRO(FPR) curve from (0, 0) up to fpr_limit (interpolated there).
template <typename T>
Curve pro_curve(const torch::Tensor &maps, const std::vector<int32_t> &region, const std::vector<int64_t> &sizes,
                int64_t normals, double fpr_limit) {
  const T *s = maps.data_ptr<T>();
  const int64_t n = maps.numel();
  std::vector<Pixel<T>> px(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    px[static_cast<size_t>(i)] = {s[i], region[static_cast<size_t>(i)]};
  std::sort(px.begin(), px.end(), [](const Pixel<T> &a, const Pixel<T> &b) { return a.score > b.score; });

  std::vector<double> inv_size(sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k)
    inv_size[k] = 1.0 / static_cast<double>(sizes[k]);
  const double regions = static_cast<double>(sizes.size());

  Curve c;
  c.x.push_back(0.0);
  c.y.push_back(0.0);
  int64_t fp = 0;
  double overlap = 0.0;  // sum over regions of the share of the region at or above the threshold
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    for (; j < n && px[static_cast<size_t>(j)].score == px[static_cast<size_t>(i)].score; ++j) {
      const int32_t r = px[static_cast<size_t>(j)].region;
      if (r < 0)
        ++fp;
      else
        overlap += inv_size[static_cast<size_t>(r)];
    }
    i = j;
    const double x = static_cast<double>(fp) / static_cast<double>(normals);
    const double y = overlap / regions;
    if (x > fpr_limit) {
      const double x0 = c.x.back(), y0 = c.y.back();
      if (x0 < fpr_limit) {
        c.x.push_back(fpr_limit);
        c.y.push_back(y0 + (y - y0) * (fpr_limit - x0) / (x - x0));
      }
      break;
    }
    c.x.push_back(x);
    c.y.push_back(y);
  }
  return c;
}

} // namespace

ProResult aupro(const torch::Tensor &maps, const torch::Tensor &masks, double fpr_limit) {
  PRN_CHECK(fpr_limit > 0.0 && fpr_limit <= 1.0, "aupro: expected fpr_limit in (0, 1], got ", fpr_limit);
  auto m = as_nhw(maps, "maps").detach().cpu();
  auto g = as_nhw(masks, "masks").detach().cpu();
  PRN_CHECK(m.sizes() == g.sizes(), "aupro: expected maps and masks of the same (N, H, W) shape, got maps ",
            maps.sizes(), " and masks ", masks.sizes());
  PRN_CHECK(m.numel() > 0, "aupro: expected at least one pixel, got maps of shape ", maps.sizes());
  // float32 maps are sorted as they are; any other type as float64 (no new ties).
  m = (m.scalar_type() == torch::kFloat32 ? m : m.to(torch::kFloat64)).contiguous();
  PRN_CHECK(torch::isfinite(m).all().item<bool>(), "aupro: expected finite maps, got NaN or Inf");
  auto fg = (g.to(torch::kFloat64) > 0.5).contiguous();

  const int64_t n = m.size(0), h = m.size(1), w = m.size(2);
  std::vector<int32_t> region(static_cast<size_t>(m.numel()));
  std::vector<int64_t> sizes, stack;
  const bool *fa = fg.data_ptr<bool>();
  for (int64_t i = 0; i < n; ++i)
    label_8connected(fa + i * h * w, h, w, region.data() + i * h * w, static_cast<int32_t>(sizes.size()), sizes,
                     stack);
  int64_t in_regions = 0;
  for (int64_t sz : sizes)
    in_regions += sz;
  const int64_t normals = m.numel() - in_regions;
  PRN_CHECK(!sizes.empty(), "aupro: expected at least one ground-truth region, got none in ", n, " masks");
  PRN_CHECK(normals > 0, "aupro: expected at least one normal pixel, got all ", m.numel(),
            " mask pixels anomalous");

  ProResult out;
  out.curve = m.scalar_type() == torch::kFloat32 ? pro_curve<float>(m, region, sizes, normals, fpr_limit)
                                                 : pro_curve<double>(m, region, sizes, normals, fpr_limit);
  const auto &x = out.curve.x, &y = out.curve.y;
  double area = 0.0;
  for (size_t k = 1; k < x.size(); ++k)
    area += 0.5 * (y[k] + y[k - 1]) * (x[k] - x[k - 1]);
  out.aupro = area / fpr_limit;
  return out;
}

} // namespace prn
