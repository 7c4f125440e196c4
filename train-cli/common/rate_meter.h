// The speed of recent work, for a progress bar's rate and ETA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace prn::cli {

// Steps per second over the samples of the last `window` seconds (never fewer
// than the last two, never more than the newest `max_samples`), so that an ETA follows the current speed: a slow start
// (warm-up), a pause (the process stopped, a busy machine) or a change of load
// leaves the rate within one window instead of weighing on it to the end.
class RateMeter {
public:
  explicit RateMeter(double window_seconds = 60.0, size_t max_samples = 1024);
  // `done` steps at `t` seconds of a monotonic clock (t never decreases).
  void add(double t, int64_t done);
  // Steps per second between the oldest kept sample and the newest; 0 until
  // two samples lie apart in time.
  double rate() const;

private:
  double window_;
  size_t max_samples_;
  std::deque<std::pair<double, int64_t>> samples_; // (t, done), oldest first
};

} // namespace prn::cli
