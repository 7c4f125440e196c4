// Reports of the evaluation CLIs: metric tables as Markdown, CSV and JSON, and
// curve plots (ROC, PRO) drawn with OpenCV.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace prn::cli {

// One evaluated case (a bundle on a category folder). Metrics that cannot be
// computed (e.g. no anomalous image) are NaN: "n/a" in tables, null in JSON.
struct MetricRow {
  std::string category;
  std::string bundle, model_id, data, layout;
  int64_t evaluated = 0, normal = 0, anomalous = 0, seen_removed = 0;
  double image_auroc = 0, pixel_auroc = 0, aupro = 0, pixel_ap = 0;
};

// The mean of every metric over the rows where it is finite (NaN when none);
// counts are summed. category = "mean".
MetricRow mean_row(const std::vector<MetricRow> &rows);

// A Markdown table: one line per row, then the mean (bold) when there are rows.
std::string metrics_markdown(const std::vector<MetricRow> &rows);
// CSV with a header line; the last line is the mean (category "mean").
std::string metrics_csv(const std::vector<MetricRow> &rows);
// {"fpr_limit": ..., "cases": [ {...}, ... ], "mean": {...}}.
std::string metrics_json(const std::vector<MetricRow> &rows, double fpr_limit);

// A CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string &s);
// JSON helpers: a quoted, escaped string; a number (null when not finite).
std::string json_string(const std::string &s);
std::string json_number(double v);

// One curve of a plot. Points are drawn in order; any number of points (those
// falling on the same output pixel are merged).
struct PlotSeries {
  std::vector<double> x, y;
  cv::Scalar colour{200, 90, 20}; // BGR
  std::string label;              // legend entry; empty: none
};

struct PlotOptions {
  std::string title, xlabel, ylabel;
  double xmax = 1.0, ymax = 1.0; // axis ranges start at 0
  bool diagonal = false;         // the chance line y = x (ROC plots)
  int width = 640, height = 520;
};

// A white plot with axes, ticks, grid, labels, a title and the curves.
cv::Mat plot_curves(const std::vector<PlotSeries> &series, const PlotOptions &options);

} // namespace prn::cli
