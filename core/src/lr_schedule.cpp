#include "prn/lr_schedule.h"

#include "prn/error.h"

#include <cmath>

namespace prn {

LrSchedule lr_schedule_from_name(const std::string &name) {
  if (name == "constant")
    return LrSchedule::Constant;
  if (name == "cosine")
    return LrSchedule::Cosine;
  throw Error("learning-rate schedule '" + name + "': expected constant or cosine");
}

std::string lr_schedule_name(LrSchedule s) { return s == LrSchedule::Cosine ? "cosine" : "constant"; }

double scheduled_lr(LrSchedule s, double base, int64_t step, int64_t total) {
  PRN_CHECK(total >= 1 && step >= 0 && step < total, "scheduled_lr: expected 0 <= step < total, got step ", step,
            " of ", total);
  if (s == LrSchedule::Constant)
    return base;
  return 0.5 * base * (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
}

void set_lr(torch::optim::Optimizer &optimizer, double lr) {
  for (auto &group : optimizer.param_groups())
    group.options().set_lr(lr);
}

} // namespace prn
