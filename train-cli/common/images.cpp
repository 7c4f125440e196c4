#include "images.h"

#include "prn/error.h"
#include "prn/state_dict.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace prn::cli {

cv::Mat to_bgr8(const torch::Tensor &rgb) {
  PRN_CHECK(rgb.dim() == 3 && rgb.size(0) == 3, "to_bgr8: expected (3, H, W), got ", rgb.sizes());
  auto t = (rgb.detach().cpu().clamp(0, 1) * 255).round().to(torch::kUInt8).flip(0).permute({1, 2, 0}).contiguous();
  cv::Mat m(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3, t.data_ptr<uint8_t>());
  return m.clone();
}

cv::Mat to_gray8(const torch::Tensor &map) {
  auto t = map.detach().cpu().squeeze();
  PRN_CHECK(t.dim() == 2, "to_gray8: expected (H, W) or (1, H, W), got ", map.sizes());
  t = (t.clamp(0, 1) * 255).round().to(torch::kUInt8).contiguous();
  cv::Mat m(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC1, t.data_ptr<uint8_t>());
  return m.clone();
}

cv::Mat overlay(const torch::Tensor &rgb, const torch::Tensor &map, double alpha) {
  cv::Mat base = to_bgr8(rgb), heat;
  cv::applyColorMap(to_gray8(map), heat, cv::COLORMAP_JET);
  if (heat.size() != base.size())
    cv::resize(heat, heat, base.size());
  cv::Mat out;
  cv::addWeighted(base, 1.0 - alpha, heat, alpha, 0.0, out);
  return out;
}

cv::Mat grid(const std::vector<cv::Mat> &tiles, int columns) {
  PRN_CHECK(!tiles.empty() && columns >= 1, "grid: expected tiles and columns >= 1");
  const int w = tiles[0].cols, h = tiles[0].rows, gap = 2;
  const int rows = (static_cast<int>(tiles.size()) + columns - 1) / columns;
  cv::Mat out(rows * (h + gap) - gap, columns * (w + gap) - gap, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t i = 0; i < tiles.size(); ++i) {
    cv::Mat t = tiles[i];
    if (t.channels() == 1)
      cv::cvtColor(t, t, cv::COLOR_GRAY2BGR);
    if (t.size() != cv::Size(w, h))
      cv::resize(t, t, cv::Size(w, h));
    const int r = static_cast<int>(i) / columns, c = static_cast<int>(i) % columns;
    t.copyTo(out(cv::Rect(c * (w + gap), r * (h + gap), w, h)));
  }
  return out;
}

void label(cv::Mat &tile, const std::string &s) {
  const cv::Point at(4, tile.rows - 6);
  cv::putText(tile, s, at, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::putText(tile, s, at, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

// image | mask | overlay (mask outline in white), tiles upscaled to at least 256 px.
std::vector<cv::Mat> overlay_strip(const torch::Tensor &image, const torch::Tensor &mask, const torch::Tensor &map,
                                   const std::string &caption) {
  const int S = static_cast<int>(image.size(1));
  const int T = S * std::max(1, (256 + S - 1) / S);
  std::vector<cv::Mat> t{to_bgr8(image), to_gray8(mask), overlay(image, map)};
  for (auto &m : t)
    cv::resize(m, m, cv::Size(T, T), 0, 0, cv::INTER_NEAREST);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(t[1] > 127, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(t[2], contours, -1, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  cv::cvtColor(t[1], t[1], cv::COLOR_GRAY2BGR);
  label(t[0], caption);
  return t;
}

void write_png(const std::string &path, const cv::Mat &image) {
  std::vector<uchar> buf;
  PRN_CHECK(cv::imencode(".png", image, buf), "cannot encode PNG for '", path, "'");
  write_file_atomic(path, std::string(buf.begin(), buf.end()));
}

} // namespace prn::cli
