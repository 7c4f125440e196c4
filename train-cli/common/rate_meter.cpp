#include "rate_meter.h"

#include <algorithm>

namespace prn::cli {

RateMeter::RateMeter(double window_seconds, size_t max_samples)
    : window_(window_seconds), max_samples_(std::max<size_t>(max_samples, 2)) {}

void RateMeter::add(double t, int64_t done) {
  samples_.emplace_back(t, done);
  while (samples_.size() > 2 && (t - samples_.front().first > window_ || samples_.size() > max_samples_))
    samples_.pop_front();
}

double RateMeter::rate() const {
  if (samples_.size() < 2)
    return 0.0;
  const double dt = samples_.back().first - samples_.front().first;
  return dt > 0 ? static_cast<double>(samples_.back().second - samples_.front().second) / dt : 0.0;
}

} // namespace prn::cli
