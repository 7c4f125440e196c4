// prnanomaly core: one optimisation step of the PRN objective.
#pragma once

#include "prn/mixed_precision.h"
#include "prn/model.h"
#include "prn/reducer.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

namespace prn {

struct StepLosses {
  double total = 0, focal = 0, smooth_l1 = 0;
};

// How the weight decay enters Adam. The paper says "Adam, weight decay 1e-2".
// Decoupled (AdamW: w -= lr * wd * w, apart from the gradient) is the default:
// coupled L2 (torch.optim.Adam's weight_decay, added to the gradient, then
// normalised by Adam) shrinks every weight by about lr per step wherever the
// loss gradient is small, which it is for a conv followed by BatchNorm (scale
// invariant): measured, 600 steps at lr 1e-3 drove the decoder's convs to
// 1e-9 and the model to a constant map (docs/training.md, "Optimiser").
enum class WeightDecay { Decoupled, Coupled };
WeightDecay weight_decay_from_name(const std::string &name); // "adamw" | "adam"; throws prn::Error otherwise
std::string weight_decay_name(WeightDecay w);

// Adam over the trainable parameters (encoder excluded), lr 1e-4 and weight
// decay 1e-2 as in the paper, decoupled (AdamW) or coupled (Adam's L2).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(PrnModelImpl &model, double lr = 1e-4,
                                                        double weight_decay = 1e-2,
                                                        WeightDecay kind = WeightDecay::Decoupled);

// Forward, loss (smooth-L1 + lambda * focal, from the model's config), backward,
// optimiser step. images (B,3,S,S) in [0,1], masks (B,1,S,S) in [0,1]. Puts the
// model in training mode (the encoder stays in eval mode).
// precision: the forward pass under autocast (bf16 or fp16; the loss in
// float32); fp16 needs `scaler` (dynamic loss scaling). A step the scaler skips
// (Inf/NaN gradients) still returns its losses.
// Data parallel (a `reducer` of world size > 1; each process passes its share
// of the global batch, shares of equal size): between backward and the
// optimiser step the gradients are averaged over the processes (bucketed
// all-reduces), so every process takes the same step, the one a single process
// would take on the whole batch; the returned losses are the global batch's.
// The model's BatchNorm should be synchronised (set_batchnorm_reducer).
StepLosses train_step(PrnModelImpl &model, torch::optim::Optimizer &optimizer, const torch::Tensor &images,
                      const torch::Tensor &masks, Precision precision = Precision::Float32,
                      LossScaler *scaler = nullptr, Reducer *reducer = nullptr);

// Makes every SyncableBatchNorm2d of the model (all BatchNorm outside the
// frozen encoder) normalise with the global batch's statistics through
// `reducer`; nullptr returns to per-process statistics.
void set_batchnorm_reducer(PrnModelImpl &model, const std::shared_ptr<Reducer> &reducer);

// Gives every process rank `root`'s parameters and buffers (prototypes
// included). The processes' models must have the same structure and
// prototype count.
void broadcast_model(PrnModelImpl &model, Reducer &reducer, int root = 0);

// "Precise BatchNorm": re-estimates the running statistics of every BatchNorm
// outside the frozen encoder as the plain average over `batches` forward passes
// of next_batch() in training mode (no gradients), then leaves the model in
// eval mode. The running averages kept during training lag behind a network
// whose weights still move, and eval-mode outputs with lagging statistics can
// be far from the training-mode ones; call this after training, on batches
// drawn like the training batches. Data parallel: call it on every process,
// each with its share of the batches, after set_batchnorm_reducer: the
// statistics are then the global batches'.
void recalibrate_batchnorm(PrnModelImpl &model, const std::function<torch::Tensor()> &next_batch, int64_t batches);

} // namespace prn
