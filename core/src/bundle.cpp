#include "prn/bundle.h"

#include "internal/text_number.h"
#include "prn/error.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace prn {
namespace {

double parse_double(const std::string &path, const std::string &key, const std::string &text) {
  if (auto v = detail::parse_number(text))
    return *v;
  throw Error(detail::concat("bundle '", path, "': field '", key, "' should be a number, got '", text, "'"));
}

double value_at_quantile(const torch::Tensor &values, double q) {
  auto sorted = std::get<0>(values.reshape({-1}).to(torch::kFloat64).sort());
  const int64_t n = sorted.numel();
  const double pos = q * static_cast<double>(n - 1);
  const int64_t lo = static_cast<int64_t>(std::floor(pos));
  const int64_t hi = std::min<int64_t>(lo + 1, n - 1);
  const double w = pos - static_cast<double>(lo);
  return (1 - w) * sorted[lo].item<double>() + w * sorted[hi].item<double>();
}

} // namespace

double Calibration::normalise_image(double raw) const {
  const double span = std::max(image_max - image_min, 1e-12);
  return std::clamp(0.5 + (raw - image_threshold) / span, 0.0, 1.0);
}

torch::Tensor Calibration::normalise_pixels(const torch::Tensor &raw) const {
  const double t = std::clamp(pixel_threshold, 1e-12, 1.0 - 1e-12);
  auto below = raw / t * 0.5;
  auto above = 0.5 + (raw - t) / (1 - t) * 0.5;
  return torch::where(raw < t, below, above).clamp(0, 1);
}

Calibration calibrate(const torch::Tensor &image_scores, const torch::Tensor &pixel_maps, double image_quantile,
                      double pixel_quantile) {
  PRN_CHECK(image_scores.defined() && image_scores.numel() >= 1,
            "calibrate: expected the scores of at least one held-out normal image");
  PRN_CHECK(pixel_maps.defined() && pixel_maps.numel() >= 1, "calibrate: expected held-out normal pixel maps");
  PRN_CHECK(image_quantile > 0 && image_quantile <= 1, "calibrate: image quantile must be in (0, 1], got ",
            image_quantile);
  PRN_CHECK(pixel_quantile > 0 && pixel_quantile <= 1, "calibrate: pixel quantile must be in (0, 1], got ",
            pixel_quantile);
  Calibration c;
  c.calibrated = true;
  c.normal_images = image_scores.numel();
  c.image_quantile = image_quantile;
  c.pixel_quantile = pixel_quantile;
  c.image_threshold = value_at_quantile(image_scores, image_quantile);
  c.pixel_threshold = value_at_quantile(pixel_maps, pixel_quantile);
  c.image_min = image_scores.min().item<double>();
  c.image_max = image_scores.max().item<double>();
  return c;
}

std::string weights_id(PrnModelImpl &model) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](const void *p, size_t n) {
    const auto *b = static_cast<const unsigned char *>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ULL;
    }
  };
  for (const auto &item : model.named_parameters()) {
    auto t = item.value().detach().cpu().contiguous();
    mix(item.key().data(), item.key().size());
    mix(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
  }
  for (const auto &item : model.named_buffers()) {
    auto t = item.value().detach().cpu().contiguous();
    mix(item.key().data(), item.key().size());
    mix(t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size());
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

void save_bundle(const std::string &path, Bundle &b) {
  PRN_CHECK(!b.model.is_empty(), "save_bundle: the bundle has no model");
  Metadata m;
  m["bundle.category"] = b.category;
  const auto &c = b.calibration;
  m["bundle.calibrated"] = c.calibrated ? "1" : "0";
  m["bundle.normal_images"] = std::to_string(c.normal_images);
  m["bundle.image_quantile"] = detail::format_number(c.image_quantile);
  m["bundle.pixel_quantile"] = detail::format_number(c.pixel_quantile);
  m["bundle.image_threshold"] = detail::format_number(c.image_threshold);
  m["bundle.pixel_threshold"] = detail::format_number(c.pixel_threshold);
  m["bundle.image_min"] = detail::format_number(c.image_min);
  m["bundle.image_max"] = detail::format_number(c.image_max);
  std::string seen;
  for (const auto &s : b.seen_anomalies)
    seen += s + "\n";
  m["bundle.seen_anomalies"] = seen;
  for (const auto &[k, v] : b.provenance)
    m["provenance." + k] = v;
  b.model_id = (b.category.empty() ? "prn" : b.category) + "-" + weights_id(*b.model);
  m["bundle.model_id"] = b.model_id;
  save_model(path, *b.model, m);
}

Bundle load_bundle(const std::string &path) {
  auto loaded = load_model(path);
  Bundle b;
  b.model = loaded.model;
  const auto &m = loaded.metadata;
  auto get = [&](const std::string &key) -> const std::string * {
    auto it = m.find(key);
    return it == m.end() ? nullptr : &it->second;
  };
  if (auto v = get("bundle.category"))
    b.category = *v;
  auto &c = b.calibration;
  if (auto v = get("bundle.calibrated"))
    c.calibrated = *v == "1";
  if (auto v = get("bundle.normal_images"))
    c.normal_images = static_cast<int64_t>(parse_double(path, "bundle.normal_images", *v));
  struct Field {
    const char *key;
    double *target;
  };
  for (Field f : {Field{"bundle.image_quantile", &c.image_quantile}, Field{"bundle.pixel_quantile", &c.pixel_quantile},
                  Field{"bundle.image_threshold", &c.image_threshold},
                  Field{"bundle.pixel_threshold", &c.pixel_threshold}, Field{"bundle.image_min", &c.image_min},
                  Field{"bundle.image_max", &c.image_max}})
    if (auto v = get(f.key))
      *f.target = parse_double(path, f.key, *v);
  if (auto v = get("bundle.seen_anomalies")) {
    std::stringstream ss(*v);
    std::string line;
    while (std::getline(ss, line))
      if (!line.empty())
        b.seen_anomalies.push_back(line);
  }
  for (const auto &[k, v] : m)
    if (k.rfind("provenance.", 0) == 0)
      b.provenance[k.substr(11)] = v;
  b.model_id = (b.category.empty() ? "prn" : b.category) + "-" + weights_id(*b.model);
  return b;
}

} // namespace prn
