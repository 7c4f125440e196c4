// A progress bar for long CLI work: on a terminal, one redrawn line with a bar,
// rate and ETA; otherwise plain lines at most every few seconds. The rate and
// ETA follow the last minute's speed (RateMeter); the final line gives the
// average over the whole run.
#pragma once

#include "rate_meter.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace prn::cli {

class Progress {
public:
  // total steps; unit names what a step is ("step", "img"); out: usually stderr.
  Progress(std::string label, int64_t total, std::string unit, std::FILE *out = stderr);
  // Marks `done` steps complete; `extra` is shown after the rate (losses...).
  void update(int64_t done, const std::string &extra = {});
  // Final line.
  void finish(const std::string &extra = {});
  // Final line of work stopped early: the steps done so far, not the total.
  void stop(const std::string &extra = {});

  static std::string format_duration(double seconds);
  // The line draw() prints, from explicit numbers (seconds, steps/s; eta < 0: unknown).
  static std::string format_line(const std::string &label, int64_t done, int64_t total, double rate,
                                 const std::string &unit, double elapsed, double eta, const std::string &extra);

private:
  void draw(bool final);

  std::string label_, unit_, extra_;
  int64_t total_, done_ = 0;
  std::FILE *out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  RateMeter recent_;
};

} // namespace prn::cli
