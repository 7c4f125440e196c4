// The line-scan generator's defects (see data/defects.h).
#include "data/defects.h"

#include "prn/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace prn::data::detail {

namespace {

double smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

// Distance from (y, x) to a polyline, and the curve parameter t in [0, 1] there.
std::pair<double, double> polyline_distance(const std::vector<cv::Point2d> &pts, double y, double x) {
  double best = 1e30, tbest = 0;
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    const cv::Point2d a = pts[i], d = pts[i + 1] - pts[i];
    const double len2 = std::max(d.dot(d), 1e-12);
    const double s = std::clamp(((x - a.x) * d.x + (y - a.y) * d.y) / len2, 0.0, 1.0);
    const double ex = a.x + s * d.x - x, ey = a.y + s * d.y - y, dist = std::hypot(ex, ey);
    if (dist < best)
      best = dist, tbest = (static_cast<double>(i) + s) / static_cast<double>(pts.size() - 1);
  }
  return {best, tbest};
}

// One defect drawn into `box` (a region of the texture web, RGB float) with
// its mask written into `mask` (CV_8U, 255 on the defect). c: the contrast
// scale of this texture; grey: a grey texture gets grey stains (a colour cast
// would make them trivial); mean: its mean colour. Geometry stays inside the box.
void plant(const std::string &kind, cv::Mat box, cv::Mat mask, Rng &rng, double c, bool grey, const cv::Scalar &mean,
           int64_t tile) {
  const double H = box.rows, W = box.cols, T = static_cast<double>(tile);
  mask.setTo(0);
  if (kind == "scratch") {
    // Mostly along the motion (y) direction; slightly bent; 1-3 px wide.
    const double angle = rng.uniform() < 0.85 ? rng.normal() * 0.12 : rng.uniform(-M_PI / 2, M_PI / 2);
    const double len = std::min(rng.uniform(0.3, 0.65) * T, 0.9 * std::min(H, W));
    const double bend = rng.uniform(-0.08, 0.08) * len, half_w = rng.uniform(0.7, 1.5);
    const cv::Point2d dir(std::sin(angle), std::cos(angle)), nrm(dir.y, -dir.x);
    const double ext_x = std::abs(dir.x) * len / 2 + std::abs(bend) + 3, ext_y = std::abs(dir.y) * len / 2 + std::abs(bend) + 3;
    const cv::Point2d ctr(rng.uniform(ext_x, std::max(ext_x, W - ext_x)), rng.uniform(ext_y, std::max(ext_y, H - ext_y)));
    std::vector<cv::Point2d> pts;
    for (int i = 0; i <= 16; ++i) {
      const double t = i / 16.0;
      pts.push_back(ctr + dir * ((t - 0.5) * len) + nrm * (4 * bend * t * (1 - t)));
    }
    // Bright (a scratch reflects) more often on dark textures, dark on bright ones.
    const double luma = 0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2];
    const double delta = (rng.uniform() < std::clamp(1.2 - luma, 0.3, 0.9) ? 1.0 : -1.0) * c * 2.0;
    const double ph = rng.uniform(0, 2 * M_PI);
    for (int y = 0; y < box.rows; ++y)
      for (int x = 0; x < box.cols; ++x) {
        const auto [d, t] = polyline_distance(pts, y, x);
        const double cover = std::clamp(half_w + 0.5 - d, 0.0, 1.0);
        if (cover <= 0)
          continue;
        const double a = cover * (0.7 + 0.3 * std::sin(ph + 9 * t)) * (0.4 + 0.6 * smoothstep(0, 0.08, std::min(t, 1 - t)));
        auto &p = box.at<cv::Vec3f>(y, x);
        for (int k = 0; k < 3; ++k)
          p[k] += static_cast<float>(a * delta);
        if (cover >= 0.5)
          mask.at<uint8_t>(y, x) = 255;
      }
    return;
  }
  // Blobs: a perturbed ellipse; rho < 1 inside.
  const bool spot = kind == "spot";
  if (spot || kind == "hole") {
    const double r0 = spot ? std::max(4.0, rng.uniform(0.05, 0.11) * T) : std::max(3.0, rng.uniform(0.02, 0.045) * T);
    const double aspect = spot ? rng.uniform(0.55, 1.0) : rng.uniform(0.8, 1.0), rot = rng.uniform(0, M_PI);
    double amp[5] = {}, phase[5] = {};
    for (int k = 2; k < 5; ++k)
      amp[k] = rng.uniform(0, spot ? 0.12 : 0.05), phase[k] = rng.uniform(0, 2 * M_PI);
    const double reach = r0 * 1.4 + 3;
    const cv::Point2d ctr(rng.uniform(reach, std::max(reach, W - reach)), rng.uniform(reach, std::max(reach, H - reach)));
    cv::Vec3f tint;
    const double warm[3] = {0.85, 1.0, 1.2}; // RGB: a stain absorbs more blue
    for (int k = 0; k < 3; ++k)
      tint[k] = static_cast<float>(
          std::clamp(c * 2.2 * (grey ? 1 + rng.uniform(-0.03, 0.03) : warm[k] * (1 + rng.uniform(-0.1, 0.1))), 0.0, 0.8));
    const bool lighter = spot && rng.uniform() < 0.25;
    const double opacity = rng.uniform(0.45, 0.75);
    const float dark = static_cast<float>(rng.uniform(0.05, 0.2));
    for (int y = 0; y < box.rows; ++y)
      for (int x = 0; x < box.cols; ++x) {
        const double ex = x - ctr.x, ey = y - ctr.y;
        const double u = ex * std::cos(rot) + ey * std::sin(rot), v = (-ex * std::sin(rot) + ey * std::cos(rot)) / aspect;
        const double th = std::atan2(v, u);
        double r = r0;
        for (int k = 2; k < 5; ++k)
          r *= 1 + amp[k] * std::cos(k * th + phase[k]);
        const double rho = std::hypot(u, v) / r, edge = std::clamp((1 - rho) * r + 0.5, 0.0, 1.0);
        if (edge <= 0)
          continue;
        auto &p = box.at<cv::Vec3f>(y, x);
        if (spot) {
          // Darker rim, like a dried stain; the stain also covers part of the
          // texture (opacity toward a flat tone), which shows on busy textures.
          const double a = edge * (0.7 + 0.3 * rho * rho);
          for (int k = 0; k < 3; ++k) {
            const double m = mean[k], t = lighter ? tint[1] : tint[k];
            const double target = lighter ? p[k] + t * (1 - p[k]) : p[k] * (1 - t);
            const double flat = lighter ? m + t * (1 - m) : m * (1 - t);
            p[k] = static_cast<float>(p[k] + a * (target + opacity * (flat - target) - p[k]));
          }
        } else {
          for (int k = 0; k < 3; ++k)
            p[k] = static_cast<float>(p[k] * (1 - edge) + edge * dark);
        }
        if (rho <= 1)
          mask.at<uint8_t>(y, x) = 255;
      }
    return;
  }
  PRN_CHECK(kind == "fold", "line-scan: unknown defect kind '", kind, "': expected scratch, spot, hole or fold");
  // A crease: a straight band where the web folded over (the texture inside is
  // squeezed: a strip of it is hidden), lit on one side and shaded on the
  // other, with a dark fold line in the middle; it fades out at both ends.
  const double angle = rng.uniform() < 0.7 ? rng.uniform(-0.45, 0.45) : M_PI / 2 + rng.uniform(-0.35, 0.35);
  const double len = rng.uniform(0.45, 0.8) * std::min(H, W), hw = std::max(3.0, rng.uniform(0.02, 0.045) * T);
  const double g = std::clamp(c * 2.0, 0.12, 0.4), squeeze = rng.uniform(0.4, 0.8);
  const cv::Point2d dir(std::sin(angle), std::cos(angle)), nrm(dir.y, -dir.x);
  const double reach = hw * (1 + squeeze) + 2;
  const double ext_x = std::abs(dir.x) * len / 2 + std::abs(nrm.x) * reach, ext_y = std::abs(dir.y) * len / 2 + std::abs(nrm.y) * reach;
  const cv::Point2d ctr(rng.uniform(ext_x, std::max(ext_x, W - ext_x)), rng.uniform(ext_y, std::max(ext_y, H - ext_y)));
  const cv::Mat orig = box.clone();
  for (int y = 0; y < box.rows; ++y)
    for (int x = 0; x < box.cols; ++x) {
      const cv::Point2d d(x - ctr.x, y - ctr.y);
      const double along = d.dot(dir) / len + 0.5, across = d.dot(nrm) / hw;
      if (std::abs(across) >= 1 || along <= 0 || along >= 1)
        continue;
      const double ends = smoothstep(0, 0.1, std::min(along, 1 - along));
      const cv::Point2d src = cv::Point2d(x, y) + nrm * (hw * squeeze * across * ends);
      const double sx = std::clamp(src.x, 0.0, W - 1.001), sy = std::clamp(src.y, 0.0, H - 1.001);
      const int x0 = static_cast<int>(sx), y0 = static_cast<int>(sy);
      const float fx = static_cast<float>(sx - x0), fy = static_cast<float>(sy - y0);
      const cv::Vec3f v = (orig.at<cv::Vec3f>(y0, x0) * (1 - fx) + orig.at<cv::Vec3f>(y0, x0 + 1) * fx) * (1 - fy) +
                          (orig.at<cv::Vec3f>(y0 + 1, x0) * (1 - fx) + orig.at<cv::Vec3f>(y0 + 1, x0 + 1) * fx) * fy;
      const double shade = (-std::sin(M_PI * across) - 0.6 * std::exp(-across * across / 0.03)) * g * ends;
      box.at<cv::Vec3f>(y, x) = v * static_cast<float>(1 + shade);
      if (ends >= 0.2)
        mask.at<uint8_t>(y, x) = 255;
    }
}

} // namespace


DefectStyle defect_style(const cv::Mat &web) {
  cv::Mat grey;
  cv::cvtColor(web, grey, cv::COLOR_RGB2GRAY);
  cv::Scalar gmean, gsd;
  cv::meanStdDev(grey, gmean, gsd);
  DefectStyle s;
  s.contrast = std::clamp(0.07 + 0.5 * gsd[0], 0.09, 0.2);
  cv::Mat lo, hi, channels[3];
  cv::split(web, channels);
  cv::min(cv::min(channels[0], channels[1]), channels[2], lo);
  cv::max(cv::max(channels[0], channels[1]), channels[2], hi);
  s.grey = cv::mean(hi - lo)[0] < 0.03;
  s.mean = cv::mean(web);
  return s;
}

std::pair<cv::Rect, int> plant_in_cell(const std::string &kind, cv::Mat &web, const cv::Rect &cell, int64_t tile,
                                       Rng &rng, const DefectStyle &style, cv::Mat labels, int id) {
  const int T = static_cast<int>(tile), margin = T / 8;
  const cv::Rect inner(cell.x + margin, cell.y + margin, T - 2 * margin, T - 2 * margin);
  cv::Mat mask(inner.size(), CV_8U);
  plant(kind, web(inner), mask, rng, style.contrast, style.grey, style.mean, tile);
  const int pixels = cv::countNonZero(mask);
  PRN_CHECK(pixels > 0, "line-scan: internal error: empty ", kind, " mask");
  if (!labels.empty())
    labels(inner).setTo(id, mask);
  return {cv::boundingRect(mask) + inner.tl(), pixels};
}

void check_kinds(const std::vector<std::string> &kinds) {
  std::set<std::string> seen;
  for (const auto &k : kinds) {
    PRN_CHECK(k == "scratch" || k == "spot" || k == "hole" || k == "fold", "line-scan: unknown defect kind '", k,
              "': expected scratch, spot, hole or fold");
    PRN_CHECK(seen.insert(k).second, "line-scan: defect kind '", k, "' given twice");
  }
}

} // namespace prn::data::detail
