#include "report.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace prn::cli {

namespace {

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v))
    return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string full(double v) {
  if (!std::isfinite(v))
    return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::string row_json(const MetricRow &r, bool is_mean) {
  std::string s = "{\"category\": " + json_string(r.category);
  if (!is_mean) {
    s += ", \"bundle\": " + json_string(r.bundle) + ", \"model_id\": " + json_string(r.model_id) +
         ", \"data\": " + json_string(r.data) + ", \"layout\": " + json_string(r.layout);
  }
  s += ", \"evaluated\": " + std::to_string(r.evaluated) + ", \"normal\": " + std::to_string(r.normal) +
       ", \"anomalous\": " + std::to_string(r.anomalous) + ", \"seen_removed\": " + std::to_string(r.seen_removed) +
       ", \"image_auroc\": " + json_number(r.image_auroc) + ", \"pixel_auroc\": " + json_number(r.pixel_auroc) +
       ", \"aupro\": " + json_number(r.aupro) + ", \"pixel_ap\": " + json_number(r.pixel_ap) + "}";
  return s;
}

} // namespace

std::string csv_field(const std::string &s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos)
    return s;
  std::string out = "\"";
  for (char c : s)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

MetricRow mean_row(const std::vector<MetricRow> &rows) {
  MetricRow m;
  m.category = "mean";
  auto mean = [&](double MetricRow::*field) {
    double sum = 0;
    int n = 0;
    for (const auto &r : rows)
      if (std::isfinite(r.*field)) {
        sum += r.*field;
        ++n;
      }
    return n ? sum / n : std::nan("");
  };
  m.image_auroc = mean(&MetricRow::image_auroc);
  m.pixel_auroc = mean(&MetricRow::pixel_auroc);
  m.aupro = mean(&MetricRow::aupro);
  m.pixel_ap = mean(&MetricRow::pixel_ap);
  for (const auto &r : rows) {
    m.evaluated += r.evaluated;
    m.normal += r.normal;
    m.anomalous += r.anomalous;
    m.seen_removed += r.seen_removed;
  }
  return m;
}

std::string metrics_markdown(const std::vector<MetricRow> &rows) {
  std::string s = "| category | images (normal + anomalous) | seen removed | Image-AUROC | Pixel-AUROC | AUPRO | "
                  "Pixel-AP | model |\n"
                  "|---|---:|---:|---:|---:|---:|---:|---|\n";
  auto line = [&](const MetricRow &r, bool bold) {
    const std::string b = bold ? "**" : "";
    s += "| " + b + r.category + b + " | " + std::to_string(r.evaluated) + " (" + std::to_string(r.normal) + " + " +
         std::to_string(r.anomalous) + ") | " + std::to_string(r.seen_removed) + " | " + b +
         fixed(r.image_auroc, 4) + b + " | " + b + fixed(r.pixel_auroc, 4) + b + " | " + b + fixed(r.aupro, 4) + b +
         " | " + b + fixed(r.pixel_ap, 4) + b + " | " + (bold ? "" : r.model_id) + " |\n";
  };
  for (const auto &r : rows)
    line(r, false);
  if (!rows.empty())
    line(mean_row(rows), true);
  return s;
}

std::string metrics_csv(const std::vector<MetricRow> &rows) {
  std::string s = "category,model_id,bundle,data,evaluated,normal,anomalous,seen_removed,image_auroc,pixel_auroc,"
                  "aupro,pixel_ap\n";
  auto line = [&](const MetricRow &r) {
    s += csv_field(r.category) + "," + csv_field(r.model_id) + "," + csv_field(r.bundle) + "," + csv_field(r.data) +
         "," + std::to_string(r.evaluated) + "," + std::to_string(r.normal) + "," + std::to_string(r.anomalous) +
         "," + std::to_string(r.seen_removed) + "," + full(r.image_auroc) + "," + full(r.pixel_auroc) + "," +
         full(r.aupro) + "," + full(r.pixel_ap) + "\n";
  };
  for (const auto &r : rows)
    line(r);
  if (!rows.empty())
    line(mean_row(rows));
  return s;
}

std::string metrics_json(const std::vector<MetricRow> &rows, double fpr_limit) {
  std::string s = "{\n  \"fpr_limit\": " + json_number(fpr_limit) + ",\n  \"cases\": [";
  for (size_t i = 0; i < rows.size(); ++i)
    s += (i ? ",\n    " : "\n    ") + row_json(rows[i], false);
  s += rows.empty() ? "],\n" : "\n  ],\n";
  s += "  \"mean\": " + row_json(mean_row(rows), true) + "\n}\n";
  return s;
}

std::string json_string(const std::string &in) {
  std::string s = "\"";
  for (unsigned char c : in) {
    switch (c) {
    case '"': s += "\\\""; break;
    case '\\': s += "\\\\"; break;
    case '\n': s += "\\n"; break;
    case '\r': s += "\\r"; break;
    case '\t': s += "\\t"; break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        s += buf;
      } else {
        s += static_cast<char>(c);
      }
    }
  }
  return s + "\"";
}

std::string json_number(double v) { return std::isfinite(v) ? full(v) : "null"; }

// ---------------------------------------------------------------------------------
// Plots.

namespace {

const cv::Scalar kBlack(0, 0, 0), kGrid(225, 225, 225), kAxis(60, 60, 60);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

void text(cv::Mat &img, const std::string &s, cv::Point at, double scale, int thickness, double align_x = 0,
          double align_y = 0) {
  int base = 0;
  const cv::Size sz = cv::getTextSize(s, kFont, scale, thickness, &base);
  at.x -= static_cast<int>(align_x * sz.width);
  at.y += static_cast<int>(align_y * sz.height);
  cv::putText(img, s, at, kFont, scale, kBlack, thickness, cv::LINE_AA);
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s.size() > 3 && s.back() == '0')
    s.pop_back(); // 0.10 -> 0.1, keep 0.05
  return s;
}

// A tick step giving 5..10 intervals on [0, range].
double tick_step(double range) {
  for (double step : {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0})
    if (range / step <= 10.0 + 1e-9)
      return step;
  return range / 10;
}

} // namespace

cv::Mat plot_curves(const std::vector<PlotSeries> &series, const PlotOptions &o) {
  cv::Mat img(o.height, o.width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 78, right = 24, top = 52, bottom = 64;
  const cv::Rect box(left, top, o.width - left - right, o.height - top - bottom);
  auto px = [&](double x, double y) {
    const double fx = std::clamp(x / o.xmax, 0.0, 1.0), fy = std::clamp(y / o.ymax, 0.0, 1.0);
    return cv::Point(box.x + static_cast<int>(std::lround(fx * box.width)),
                     box.y + box.height - static_cast<int>(std::lround(fy * box.height)));
  };
  // Grid, ticks and tick labels.
  const double xs = tick_step(o.xmax), ys = tick_step(o.ymax);
  for (int i = 0; i * xs <= o.xmax + 1e-9; ++i) {
    const cv::Point p = px(i * xs, 0);
    cv::line(img, {p.x, box.y}, {p.x, box.y + box.height}, kGrid, 1);
    cv::line(img, p, {p.x, p.y + 5}, kAxis, 1);
    text(img, tick_label(i * xs), {p.x, p.y + 10}, 0.42, 1, 0.5, 1.0);
  }
  for (int i = 0; i * ys <= o.ymax + 1e-9; ++i) {
    const cv::Point p = px(0, i * ys);
    cv::line(img, {box.x, p.y}, {box.x + box.width, p.y}, kGrid, 1);
    cv::line(img, {p.x - 5, p.y}, p, kAxis, 1);
    text(img, tick_label(i * ys), {p.x - 9, p.y}, 0.42, 1, 1.0, 0.5);
  }
  if (o.diagonal) {
    const double end = std::min(o.xmax, o.ymax);
    const cv::Point a = px(0, 0), b = px(end, end);
    const int n = 40;
    for (int i = 0; i < n; i += 2)
      cv::line(img, a + (b - a) * i / n, a + (b - a) * (i + 1) / n, cv::Scalar(150, 150, 150), 1, cv::LINE_AA);
  }
  // Curves: consecutive points on the same pixel are merged (millions of points).
  for (const auto &s : series) {
    std::vector<cv::Point> pts;
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      const cv::Point p = px(s.x[i], s.y[i]);
      if (pts.empty() || pts.back() != p)
        pts.push_back(p);
    }
    if (pts.size() == 1)
      cv::circle(img, pts[0], 3, s.colour, cv::FILLED, cv::LINE_AA);
    else if (!pts.empty())
      cv::polylines(img, pts, false, s.colour, 2, cv::LINE_AA);
  }
  cv::rectangle(img, box, kAxis, 1);
  // Legend (bottom right, inside the box).
  int ly = box.y + box.height - 14 - 22 * static_cast<int>(series.size() - 1);
  for (const auto &s : series) {
    if (s.label.empty())
      continue;
    const int lx = box.x + box.width - 210;
    cv::line(img, {lx, ly - 5}, {lx + 26, ly - 5}, s.colour, 2, cv::LINE_AA);
    text(img, s.label, {lx + 34, ly}, 0.45, 1);
    ly += 22;
  }
  // Title and axis labels.
  text(img, o.title, {o.width / 2, 32}, 0.6, 1, 0.5);
  text(img, o.xlabel, {box.x + box.width / 2, o.height - 14}, 0.5, 1, 0.5);
  if (!o.ylabel.empty()) {
    int base = 0;
    const cv::Size sz = cv::getTextSize(o.ylabel, kFont, 0.5, 1, &base);
    cv::Mat label(sz.height + base + 4, sz.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(label, o.ylabel, {2, sz.height + 2}, kFont, 0.5, kBlack, 1, cv::LINE_AA);
    cv::Mat rotated;
    cv::rotate(label, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int y0 = std::max(0, box.y + box.height / 2 - rotated.rows / 2);
    if (y0 + rotated.rows <= img.rows && 8 + rotated.cols <= img.cols)
      rotated.copyTo(img(cv::Rect(8, y0, rotated.cols, rotated.rows)));
  }
  return img;
}

} // namespace prn::cli
