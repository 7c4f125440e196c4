// prnanomaly core: learning-rate schedules of the training loops (prn-train,
// the encoder's texture pretraining).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace prn {

// constant: the paper's (Adam at a fixed rate). cosine: from the base rate at
// the first step down towards 0 at the last, as torch's CosineAnnealingLR with
// eta_min 0 over the run; a short run then ends on averaged-out weights rather
// than on one noisy step of a high rate.
enum class LrSchedule { Constant, Cosine };
LrSchedule lr_schedule_from_name(const std::string &name); // "constant" | "cosine"; throws prn::Error naming both
std::string lr_schedule_name(LrSchedule s);

// The rate of step `step` (0-based) of `total`: constant: base; cosine:
// base * (1 + cos(pi * step / total)) / 2.
double scheduled_lr(LrSchedule s, double base, int64_t step, int64_t total);

// Sets the rate of every parameter group of `optimizer`.
void set_lr(torch::optim::Optimizer &optimizer, double lr);

} // namespace prn
