#include "progress.h"

#include <unistd.h>

#include <algorithm>

namespace prn::cli {

Progress::Progress(std::string label, int64_t total, std::string unit, std::FILE *out)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total > 0 ? total : 1), out_(out),
      tty_(isatty(fileno(out)) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  recent_.add(0.0, 0);
}

std::string Progress::format_duration(double s) {
  if (s < 0 || s > 1e7)
    return "--:--";
  const int64_t t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(t / 60), static_cast<long long>(t % 60));
  return buf;
}

void Progress::update(int64_t done, const std::string &extra) {
  done_ = done;
  extra_ = extra;
  const auto now = std::chrono::steady_clock::now();
  recent_.add(std::chrono::duration<double>(now - start_).count(), done_);
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if ((tty_ && since >= 0.1) || (!tty_ && since >= 5.0) || done_ >= total_) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish(const std::string &extra) {
  done_ = total_;
  stop(extra);
}

void Progress::stop(const std::string &extra) {
  if (!extra.empty())
    extra_ = extra;
  draw(true);
}

std::string Progress::format_line(const std::string &label, int64_t done, int64_t total, double rate,
                                  const std::string &unit, double elapsed, double eta, const std::string &extra) {
  const int width = 24;
  const int filled = static_cast<int>(width * std::clamp<int64_t>(done, 0, total) / total);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  char line[512];
  std::snprintf(line, sizeof line, "%s [%s] %lld/%lld %.2f %s/s elapsed %s eta %s %s", label.c_str(), bar.c_str(),
                static_cast<long long>(done), static_cast<long long>(total), rate, unit.c_str(),
                format_duration(elapsed).c_str(), format_duration(eta).c_str(), extra.c_str());
  return line;
}

void Progress::draw(bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double average = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  // While running: the recent speed (the average until it has two samples apart); at the end: the average.
  const double recent = recent_.rate();
  const double rate = final || recent <= 0 ? average : recent;
  const double eta = final ? 0.0 : rate > 0 ? static_cast<double>(total_ - done_) / rate : -1;
  const std::string line = format_line(label_, done_, total_, rate, unit_, elapsed, eta, extra_);
  if (tty_)
    std::fprintf(out_, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

} // namespace prn::cli
