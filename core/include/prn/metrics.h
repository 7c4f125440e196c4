// prnanomaly core: evaluation metrics.
#pragma once

#include <torch/torch.h>

namespace prn {

// Area under the ROC curve of scores against binary labels (any shapes with the
// same number of elements; label > 0.5 is positive). Ties count one half
// (Mann-Whitney U with average ranks), as scikit-learn's roc_auc_score.
// Throws prn::Error when either class is absent.
double auroc(const torch::Tensor &scores, const torch::Tensor &labels);

} // namespace prn
