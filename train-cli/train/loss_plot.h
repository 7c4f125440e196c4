// prn-train's loss-curve PNG.
#pragma once

#include <string>
#include <vector>

namespace prn::train {

struct LossSeries {
  std::string name;
  std::vector<double> values; // one per step
};

// Plots the series against the step (log-scaled y, a moving average over
// `smooth` steps drawn over the raw values) and writes a PNG atomically.
void write_loss_plot(const std::string &path, const std::vector<LossSeries> &series, int smooth = 20);

} // namespace prn::train
