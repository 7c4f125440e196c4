// prnanomaly core: one optimisation step of the PRN objective.
#pragma once

#include "prn/mixed_precision.h"
#include "prn/model.h"

#include <torch/torch.h>

#include <functional>
#include <memory>

namespace prn {

struct StepLosses {
  double total = 0, focal = 0, smooth_l1 = 0;
};

// Adam over the trainable parameters (encoder excluded), lr 1e-4 and weight
// decay 1e-2 as in the paper.
std::unique_ptr<torch::optim::Adam> make_optimizer(PrnModelImpl &model, double lr = 1e-4,
                                                   double weight_decay = 1e-2);

// Forward, loss (smooth-L1 + lambda * focal, from the model's config), backward,
// optimiser step. images (B,3,S,S) in [0,1], masks (B,1,S,S) in [0,1]. Puts the
// model in training mode (the encoder stays in eval mode).
// precision: the forward pass under autocast (bf16 or fp16; the loss in
// float32); fp16 needs `scaler` (dynamic loss scaling). A step the scaler skips
// (Inf/NaN gradients) still returns its losses.
StepLosses train_step(PrnModelImpl &model, torch::optim::Optimizer &optimizer, const torch::Tensor &images,
                      const torch::Tensor &masks, Precision precision = Precision::Float32,
                      LossScaler *scaler = nullptr);

// "Precise BatchNorm": re-estimates the running statistics of every BatchNorm
// outside the frozen encoder as the plain average over `batches` forward passes
// of next_batch() in training mode (no gradients), then leaves the model in
// eval mode. The running averages kept during training lag behind a network
// whose weights still move, and eval-mode outputs with lagging statistics can
// be far from the training-mode ones; call this after training, on batches
// drawn like the training batches.
void recalibrate_batchnorm(PrnModelImpl &model, const std::function<torch::Tensor()> &next_batch, int64_t batches);

} // namespace prn
