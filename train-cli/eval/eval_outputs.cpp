#include "eval/eval_outputs.h"

#include "common/images.h"
#include "common/report.h"

#include "prn/data/dataset.h"
#include "prn/error.h"
#include "prn/state_dict.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;

namespace prn::eval {

namespace {

// `k` indices spread evenly over `from`.
std::vector<size_t> spread(const std::vector<size_t> &from, size_t k) {
  std::vector<size_t> out;
  k = std::min(k, from.size());
  for (size_t i = 0; i < k; ++i)
    out.push_back(from[i * from.size() / k]);
  return out;
}

void plot(const fs::path &file, const std::string &category, const prn::Curve &curve, const std::string &title,
          double value, const std::string &xlabel, const std::string &ylabel, double xmax, bool diagonal) {
  prn::cli::PlotOptions o;
  char t[200];
  std::snprintf(t, sizeof t, "%s - %s %.4f", category.c_str(), title.c_str(), value);
  o.title = t;
  o.xlabel = xlabel;
  o.ylabel = ylabel;
  o.xmax = xmax;
  o.diagonal = diagonal;
  prn::cli::PlotSeries series;
  series.x = curve.x;
  series.y = curve.y;
  prn::cli::write_png(file.string(), prn::cli::plot_curves({series}, o));
}

} // namespace

std::string safe_name(std::string s) {
  for (char &c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      c = '_';
  return s.empty() ? "category" : s;
}

void write_scores_csv(const std::string &path, const ScoredSplit &s) {
  std::string csv = "path,defect,label,image_score\n";
  for (size_t j = 0; j < s.split.samples.size(); ++j) {
    const auto i = static_cast<int64_t>(j);
    char num[32];
    std::snprintf(num, sizeof num, "%.9g", s.scores[i].item<double>());
    csv += prn::cli::csv_field(s.split.rel_paths[j]) + "," + prn::cli::csv_field(s.split.samples[j].defect) + "," +
           (s.labels[i].item<double>() > 0.5 ? "1" : "0") + "," + num + "\n";
  }
  prn::write_file_atomic(path, csv);
}

void write_tensor_bin(const std::string &path, const torch::Tensor &t) {
  auto c = t.to(torch::kFloat32).contiguous().cpu();
  const int32_t ndim = static_cast<int32_t>(c.dim());
  std::string bytes(reinterpret_cast<const char *>(&ndim), sizeof ndim);
  for (int64_t d : c.sizes())
    bytes.append(reinterpret_cast<const char *>(&d), sizeof d);
  bytes.append(reinterpret_cast<const char *>(c.data_ptr<float>()), static_cast<size_t>(c.numel()) * sizeof(float));
  prn::write_file_atomic(path, bytes);
}

void write_curves(const std::string &dir, const std::string &category, const ScoredSplit &s, double image_auroc,
                  double pixel_auroc, double aupro, const prn::Curve &pro_curve, double fpr_limit) {
  const fs::path d(dir);
  if (std::isfinite(image_auroc))
    plot(d / "roc_image.png", category, prn::roc_curve(s.scores, s.labels), "image ROC, AUROC", image_auroc,
         "false-positive rate", "true-positive rate", 1.0, true);
  if (std::isfinite(pixel_auroc)) // thresholds on a 1/65536 grid: at most 65537 points
    plot(d / "roc_pixel.png", category, prn::roc_curve((s.maps * 65536).round() / 65536, s.masks),
         "pixel ROC, AUROC", pixel_auroc, "false-positive rate (pixels)", "true-positive rate (pixels)", 1.0, true);
  if (std::isfinite(aupro))
    plot(d / "pro.png", category, pro_curve, "PRO curve, AUPRO", aupro, "false-positive rate (pixels)",
         "per-region overlap", fpr_limit, false);
}

void write_overlays(const std::string &dir, const ScoredSplit &s, int64_t count, int64_t input_size) {
  const auto &samples = s.split.samples;
  std::vector<size_t> bad, good;
  for (size_t j = 0; j < samples.size(); ++j)
    (samples[j].anomalous ? bad : good).push_back(j);
  // Half anomalous, half normal; the rest from the other kind when one runs short.
  const size_t want = static_cast<size_t>(count);
  const size_t nb = std::min(bad.size(), std::max(want / 2 + want % 2, want - std::min(want, good.size())));
  auto pick = spread(bad, nb);
  for (size_t j : spread(good, want - nb))
    pick.push_back(j);
  if (pick.empty())
    return;
  const fs::path d(dir);
  fs::create_directories(d / "overlays");
  std::vector<cv::Mat> tiles;
  for (size_t k = 0; k < pick.size(); ++k) {
    const size_t j = pick[k];
    const auto i = static_cast<int64_t>(j);
    char cap[96];
    std::snprintf(cap, sizeof cap, "%s %.3f", samples[j].defect.c_str(), s.scores[i].item<double>());
    const auto img = prn::data::load_image(samples[j].image_path, input_size);
    auto strip = prn::cli::overlay_strip(img, s.masks[i], s.maps[i], cap);
    char name[32];
    std::snprintf(name, sizeof name, "%02zu_", k);
    const std::string file =
        name + safe_name(samples[j].defect + "_" + fs::path(samples[j].image_path).stem().string());
    prn::cli::write_png((d / "overlays" / (file + ".png")).string(), prn::cli::grid(strip, 3));
    tiles.insert(tiles.end(), strip.begin(), strip.end());
  }
  prn::cli::write_png((d / "overlays.png").string(), prn::cli::grid(tiles, pick.size() > 1 ? 6 : 3));
}

} // namespace prn::eval
