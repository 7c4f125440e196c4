#include "prn/metrics.h"

#include "prn/error.h"

namespace prn {

namespace {

// Scores (float64) and labels (bool, label > 0.5) flattened on the CPU, after
// checking that they pair up and that every score is finite.
std::pair<torch::Tensor, torch::Tensor> flat_inputs(const char *fn, const torch::Tensor &scores,
                                                    const torch::Tensor &labels) {
  PRN_CHECK(scores.defined() && labels.defined() && scores.numel() == labels.numel(), fn,
            ": expected scores and labels with the same number of elements, got ",
            scores.defined() ? scores.numel() : 0, " and ", labels.defined() ? labels.numel() : 0);
  auto s = scores.detach().reshape({-1}).to(torch::kFloat64).cpu().contiguous();
  auto y = (labels.detach().reshape({-1}).to(torch::kFloat64).cpu() > 0.5).contiguous();
  PRN_CHECK(torch::isfinite(s).all().item<bool>(), fn, ": expected finite scores, got NaN or Inf");
  return {s, y};
}

// Cumulative counts at each distinct score, thresholds descending: tp[k] and
// fp[k] count the positives and negatives scoring >= the k-th largest distinct
// score. One sort, then one linear pass.
struct Sweep {
  std::vector<int64_t> tp, fp;
  int64_t positives() const { return tp.empty() ? 0 : tp.back(); }
  int64_t negatives() const { return fp.empty() ? 0 : fp.back(); }
};

Sweep sweep(const torch::Tensor &s, const torch::Tensor &y) {
  auto [ss, order] = s.sort(/*stable=*/false, 0, /*descending=*/true);
  auto yy = y.index_select(0, order).contiguous();
  const double *sa = ss.data_ptr<double>();
  const bool *ya = yy.data_ptr<bool>();
  const int64_t n = ss.numel();
  Sweep out;
  int64_t tp = 0, fp = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    for (; j < n && sa[j] == sa[i]; ++j)
      (ya[j] ? tp : fp) += 1;
    out.tp.push_back(tp);
    out.fp.push_back(fp);
    i = j;
  }
  return out;
}

} // namespace

double auroc(const torch::Tensor &scores, const torch::Tensor &labels) {
  auto [s, y] = flat_inputs("auroc", scores, labels);
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

Curve roc_curve(const torch::Tensor &scores, const torch::Tensor &labels) {
  auto [s, y] = flat_inputs("roc_curve", scores, labels);
  const Sweep sw = sweep(s, y);
  const int64_t pos = sw.positives(), neg = sw.negatives();
  PRN_CHECK(pos > 0 && neg > 0, "roc_curve: expected both positive and negative labels, got ", pos,
            " positive and ", neg, " negative");
  Curve c;
  c.x.reserve(sw.tp.size() + 1);
  c.y.reserve(sw.tp.size() + 1);
  c.x.push_back(0.0);
  c.y.push_back(0.0);
  for (size_t k = 0; k < sw.tp.size(); ++k) {
    c.x.push_back(static_cast<double>(sw.fp[k]) / static_cast<double>(neg));
    c.y.push_back(static_cast<double>(sw.tp[k]) / static_cast<double>(pos));
  }
  return c;
}

double average_precision(const torch::Tensor &scores, const torch::Tensor &labels) {
  auto [s, y] = flat_inputs("average_precision", scores, labels);
  const Sweep sw = sweep(s, y);
  const int64_t pos = sw.positives();
  PRN_CHECK(pos > 0, "average_precision: expected at least one positive label, got 0 positive and ",
            sw.negatives(), " negative");
  double sum = 0.0;
  int64_t prev_tp = 0;
  for (size_t k = 0; k < sw.tp.size(); ++k) {
    const int64_t d = sw.tp[k] - prev_tp;  // R_n - R_{n-1} = d / pos
    if (d > 0)
      sum += static_cast<double>(d) * static_cast<double>(sw.tp[k]) / static_cast<double>(sw.tp[k] + sw.fp[k]);
    prev_tp = sw.tp[k];
  }
  return sum / static_cast<double>(pos);
}

} // namespace prn
