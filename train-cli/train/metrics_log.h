// prn-train's metrics log (metrics.jsonl): one JSON line per step. On --resume
// the log is cut back to the checkpoint's step, so a step appears once however
// often a run was interrupted, and the loss curve covers the whole run.
#pragma once

#include "train/loss_plot.h"

#include <cstdint>
#include <string>
#include <vector>

namespace prn::train {

struct StepMetrics {
  int64_t step = 0;
  double loss = 0, focal = 0, smooth_l1 = 0;
};

// The lines of `path` (as prn-train writes them) with step <= up_to_step, in
// order. A missing file gives none; a malformed line throws prn::Error naming
// the file and line.
std::vector<StepMetrics> read_metrics_log(const std::string &path, int64_t up_to_step);

// Rewrites `path` atomically with only its lines of step <= up_to_step and
// returns them (what read_metrics_log would).
std::vector<StepMetrics> cut_metrics_log(const std::string &path, int64_t up_to_step);

// total / focal / smooth-l1 series from the entries.
std::vector<LossSeries> loss_series(const std::vector<StepMetrics> &entries);

} // namespace prn::train
