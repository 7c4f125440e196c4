#include "progress.h"

#include <unistd.h>

namespace prn::cli {

Progress::Progress(std::string label, int64_t total, std::string unit, std::FILE *out)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total > 0 ? total : 1), out_(out),
      tty_(isatty(fileno(out)) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

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

void Progress::draw(bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1;
  const int width = 24;
  const int filled = static_cast<int>(width * done_ / total_);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  char line[512];
  std::snprintf(line, sizeof line, "%s [%s] %lld/%lld %.2f %s/s elapsed %s eta %s %s", label_.c_str(), bar.c_str(),
                static_cast<long long>(done_), static_cast<long long>(total_), rate, unit_.c_str(),
                format_duration(elapsed).c_str(), final ? "00:00" : format_duration(eta).c_str(), extra_.c_str());
  if (tty_)
    std::fprintf(out_, "\r\033[K%s%s", line, final ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", line);
  std::fflush(out_);
}

} // namespace prn::cli
