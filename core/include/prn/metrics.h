// prnanomaly core: evaluation metrics.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace prn {

// Area under the ROC curve of scores against binary labels (any shapes with the
// same number of elements; label > 0.5 is positive). Ties count one half
// (Mann-Whitney U with average ranks), as scikit-learn's roc_auc_score.
// Throws prn::Error when either class is absent.
double auroc(const torch::Tensor &scores, const torch::Tensor &labels);

// A curve as parallel vectors (x ascending).
struct Curve {
  std::vector<double> x, y;
};

// ROC curve: x = false-positive rate, y = true-positive rate, one point per
// distinct score (descending thresholds), starting at (0, 0) and ending at (1, 1):
// scikit-learn's roc_curve with drop_intermediate=False. Labels as for auroc.
// Throws prn::Error when either class is absent.
Curve roc_curve(const torch::Tensor &scores, const torch::Tensor &labels);

// Average precision as scikit-learn's average_precision_score:
// sum over thresholds of (R_n - R_{n-1}) * P_n (not the trapezoidal PR area).
// Tied scores form one threshold. Labels as for auroc. Throws prn::Error when
// there is no positive label.
double average_precision(const torch::Tensor &scores, const torch::Tensor &labels);

struct ProResult {
  double aupro = 0;  // normalised area under PRO(FPR) on [0, fpr_limit]
  Curve curve;       // x = FPR, y = mean per-region overlap, up to fpr_limit:
                     // (0, 0), then one point per distinct score (descending
                     // thresholds) with FPR <= fpr_limit, then (fpr_limit, PRO
                     // interpolated linearly) unless a point lies there exactly.
};

// AUPRO as in MVTec AD's published evaluation: label the 8-connected regions of
// every ground-truth mask; sweep thresholds over all pixel scores; FPR = share of
// normal pixels at or above the threshold, PRO = mean over all regions (of all
// images) of the share of the region at or above it; area under PRO(FPR) from 0
// to fpr_limit (the curve interpolated at fpr_limit), divided by fpr_limit.
// maps and masks: (N, H, W) or (N, 1, H, W), the same N, H, W; mask > 0.5 is
// anomalous. fpr_limit in (0, 1]. Throws prn::Error when there is no region or
// no normal pixel, on a shape mismatch, or on non-finite maps. One sort of all
// pixels: O(P log P) for P pixels.
ProResult aupro(const torch::Tensor &maps, const torch::Tensor &masks, double fpr_limit = 0.3);

} // namespace prn
