#include "prn/metrics.h"

#include "prn/error.h"

namespace prn {

double auroc(const torch::Tensor &scores, const torch::Tensor &labels) {
  PRN_CHECK(scores.defined() && labels.defined() && scores.numel() == labels.numel(),
            "auroc: expected scores and labels with the same number of elements, got ",
            scores.defined() ? scores.numel() : 0, " and ", labels.defined() ? labels.numel() : 0);
  auto s = scores.detach().reshape({-1}).to(torch::kFloat64).cpu();
  auto y = (labels.detach().reshape({-1}).to(torch::kFloat64).cpu() > 0.5);
  PRN_CHECK(torch::isfinite(s).all().item<bool>(), "auroc: scores hold NaN or Inf");
  const int64_t n = s.numel();
  const int64_t pos = y.sum().item<int64_t>();
  const int64_t neg = n - pos;
  PRN_CHECK(pos > 0 && neg > 0, "auroc: expected both positive and negative labels, got ", pos, " positive and ",
            neg, " negative");
  auto order = std::get<1>(s.sort(/*stable=*/true, 0, false));
  auto ss = s.index_select(0, order);
  auto yy = y.index_select(0, order);
  auto sa = ss.accessor<double, 1>();
  auto ya = yy.accessor<bool, 1>();
  // Sum of the (average, 1-based) ranks of the positives.
  double rank_sum = 0.0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    int64_t positives = 0;
    while (j < n && sa[j] == sa[i]) {
      positives += ya[j] ? 1 : 0;
      ++j;
    }
    const double avg_rank = 0.5 * static_cast<double>(i + 1 + j);
    rank_sum += avg_rank * static_cast<double>(positives);
    i = j;
  }
  const double p = static_cast<double>(pos), q = static_cast<double>(neg);
  return (rank_sum - p * (p + 1) / 2) / (p * q);
}

} // namespace prn
