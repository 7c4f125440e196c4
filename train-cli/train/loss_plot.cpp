#include "loss_plot.h"

#include "common/images.h"
#include "prn/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace prn::train {

void write_loss_plot(const std::string &path, const std::vector<LossSeries> &series, int smooth) {
  const int W = 900, H = 500, left = 70, right = 160, top = 40, bottom = 50;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  size_t steps = 0;
  double lo = 1e300, hi = -1e300;
  for (const auto &s : series) {
    steps = std::max(steps, s.values.size());
    for (double v : s.values)
      if (v > 0 && std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  }
  PRN_CHECK(steps >= 1 && hi > 0, "loss plot '", path, "': nothing to plot");
  if (hi <= lo)
    hi = lo * 10;
  const double ly0 = std::log10(lo), ly1 = std::log10(hi);
  auto px = [&](size_t i) { return left + static_cast<int>((W - left - right) * (steps > 1 ? double(i) / double(steps - 1) : 0.0)); };
  auto py = [&](double v) {
    const double t = (std::log10(std::max(v, lo)) - ly0) / (ly1 - ly0);
    return top + static_cast<int>((H - top - bottom) * (1.0 - t));
  };
  cv::rectangle(img, {left, top}, {W - right, H - bottom}, cv::Scalar(0, 0, 0), 1);
  for (int d = static_cast<int>(std::floor(ly0)); d <= static_cast<int>(std::ceil(ly1)); ++d) {
    const double v = std::pow(10.0, d);
    if (v < lo * 0.999 || v > hi * 1.001)
      continue;
    cv::line(img, {left, py(v)}, {W - right, py(v)}, cv::Scalar(220, 220, 220), 1);
    cv::putText(img, "1e" + std::to_string(d), {8, py(v) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1);
  }
  cv::putText(img, "step 0", {left, H - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1);
  cv::putText(img, "step " + std::to_string(steps), {W - right - 80, H - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              cv::Scalar(0, 0, 0), 1);
  cv::putText(img, "prn-train loss (log scale)", {left, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 0, 0), 1);
  const cv::Scalar colours[] = {cv::Scalar(200, 60, 20), cv::Scalar(30, 140, 30), cv::Scalar(20, 20, 200),
                                cv::Scalar(150, 0, 150)};
  for (size_t k = 0; k < series.size(); ++k) {
    const auto &v = series[k].values;
    const cv::Scalar c = colours[k % 4];
    const cv::Scalar faint = (c + cv::Scalar(255, 255, 255) * 3) / 4;
    for (size_t i = 1; i < v.size(); ++i)
      cv::line(img, {px(i - 1), py(v[i - 1])}, {px(i), py(v[i])}, faint, 1);
    double acc = 0;
    std::vector<double> avg(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      acc += v[i];
      if (i >= static_cast<size_t>(smooth))
        acc -= v[i - static_cast<size_t>(smooth)];
      avg[i] = acc / static_cast<double>(std::min(i + 1, static_cast<size_t>(smooth)));
    }
    for (size_t i = 1; i < avg.size(); ++i)
      cv::line(img, {px(i - 1), py(avg[i - 1])}, {px(i), py(avg[i])}, c, 2, cv::LINE_AA);
    cv::line(img, {W - right + 10, top + 20 + 22 * static_cast<int>(k)}, {W - right + 35, top + 20 + 22 * static_cast<int>(k)}, c, 2);
    cv::putText(img, series[k].name, {W - right + 40, top + 25 + 22 * static_cast<int>(k)}, cv::FONT_HERSHEY_SIMPLEX,
                0.45, cv::Scalar(0, 0, 0), 1);
  }
  cli::write_png(path, img);
}

} // namespace prn::train
