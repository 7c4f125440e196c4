// prnanomaly core: the training loss (focal + smooth-L1).
#pragma once

#include <torch/torch.h>

namespace prn {

struct LossParts {
  torch::Tensor total;     // smooth_l1 + lambda * focal
  torch::Tensor focal;     // mean binary focal loss
  torch::Tensor smooth_l1; // mean smooth-L1 between sigmoid(logits) and the mask
};

// Binary focal loss (Lin et al.) on logits against a mask in [0, 1], mean over
// all pixels: -[alpha (1-p)^g y log p + (1-alpha) p^g (1-y) log(1-p)], p = sigmoid(logits),
// computed with log-sigmoid for stability.
torch::Tensor focal_loss(const torch::Tensor &logits, const torch::Tensor &mask, double alpha, double gamma);

// Smooth-L1 (Huber, beta 1) between sigmoid(logits) and the mask, mean over pixels.
torch::Tensor smooth_l1_loss(const torch::Tensor &logits, const torch::Tensor &mask);

// total = smooth_l1 + lambda * focal. logits and mask: (B, 1, H, W), mask float in
// [0, 1]. Throws prn::Error on shape or dtype mismatch.
LossParts prn_loss(const torch::Tensor &logits, const torch::Tensor &mask, double alpha, double gamma,
                   double lambda);

} // namespace prn
