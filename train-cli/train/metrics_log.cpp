#include "train/metrics_log.h"

#include "prn/error.h"
#include "prn/state_dict.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace prn::train {

namespace {

bool parse(const std::string &line, StepMetrics &m) {
  long long step = 0;
  double epoch = 0;
  if (std::sscanf(line.c_str(), "{\"step\": %lld, \"epoch\": %lf, \"loss\": %lf, \"focal\": %lf, \"smooth_l1\": %lf",
                  &step, &epoch, &m.loss, &m.focal, &m.smooth_l1) != 5)
    return false;
  m.step = step;
  return true;
}

// The raw lines with step <= up_to_step, and their parsed values.
std::vector<std::pair<std::string, StepMetrics>> kept_lines(const std::string &path, int64_t up_to_step) {
  std::vector<std::pair<std::string, StepMetrics>> out;
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty())
      continue;
    StepMetrics m;
    PRN_CHECK(parse(line, m), "metrics log '", path, "', line ", n, ": expected a line written by prn-train, got '",
              line.substr(0, 80), "'");
    if (m.step <= up_to_step)
      out.emplace_back(line, m);
  }
  return out;
}

} // namespace

std::vector<StepMetrics> read_metrics_log(const std::string &path, int64_t up_to_step) {
  std::vector<StepMetrics> out;
  for (auto &[line, m] : kept_lines(path, up_to_step))
    out.push_back(m);
  return out;
}

std::vector<StepMetrics> cut_metrics_log(const std::string &path, int64_t up_to_step) {
  std::ostringstream text;
  std::vector<StepMetrics> kept;
  for (auto &[line, m] : kept_lines(path, up_to_step)) {
    text << line << '\n';
    kept.push_back(m);
  }
  prn::write_file_atomic(path, text.str());
  return kept;
}

std::vector<LossSeries> loss_series(const std::vector<StepMetrics> &entries) {
  std::vector<LossSeries> curves{{"total", {}}, {"focal", {}}, {"smooth-l1", {}}};
  for (const StepMetrics &m : entries) {
    curves[0].values.push_back(m.loss);
    curves[1].values.push_back(m.focal);
    curves[2].values.push_back(m.smooth_l1);
  }
  return curves;
}

} // namespace prn::train
