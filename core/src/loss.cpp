#include "prn/loss.h"

#include "prn/error.h"

namespace prn {
namespace {

void check_pair(const torch::Tensor &logits, const torch::Tensor &mask) {
  PRN_CHECK(logits.defined() && mask.defined(), "loss: expected defined logits and mask");
  PRN_CHECK(logits.sizes() == mask.sizes(), "loss: expected mask of the logits' shape ", logits.sizes(), ", got ",
            mask.sizes());
  PRN_CHECK(logits.is_floating_point() && mask.is_floating_point(),
            "loss: expected floating-point logits and mask, got ", logits.scalar_type(), " and ",
            mask.scalar_type());
}

} // namespace

torch::Tensor focal_loss(const torch::Tensor &logits, const torch::Tensor &mask, double alpha, double gamma) {
  check_pair(logits, mask);
  auto p = torch::sigmoid(logits);
  auto log_p = torch::log_sigmoid(logits);
  auto log_q = torch::log_sigmoid(-logits);
  auto pos = alpha * torch::pow(1 - p, gamma) * mask * log_p;
  auto neg = (1 - alpha) * torch::pow(p, gamma) * (1 - mask) * log_q;
  return -(pos + neg).mean();
}

torch::Tensor smooth_l1_loss(const torch::Tensor &logits, const torch::Tensor &mask) {
  check_pair(logits, mask);
  return torch::smooth_l1_loss(torch::sigmoid(logits), mask, at::Reduction::Mean, 1.0);
}

LossParts prn_loss(const torch::Tensor &logits, const torch::Tensor &mask, double alpha, double gamma,
                   double lambda) {
  LossParts parts;
  parts.focal = prn::focal_loss(logits, mask, alpha, gamma);
  parts.smooth_l1 = prn::smooth_l1_loss(logits, mask);
  parts.total = parts.smooth_l1 + lambda * parts.focal;
  return parts;
}

} // namespace prn
