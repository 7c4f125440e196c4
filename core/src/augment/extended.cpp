// Extended anomalies: a seen defect region, augmented, pasted onto a normal image.
//
// Pipeline: crop the bounding box of the seen mask; exact flips and 90-degree
// turns of patch and mask; one resampling of both through the composition of
// scale/rotate (about the patch centre) and optional grid / elastic
// distortion; photometric changes, blur and noise inside the region; paste
// at a shifted position. Resampling is normalised by the resampled mask
// (sample(I M) / sample(M)), so the pasted colours come from defect pixels
// only, never from the background around them in the seen image; the region
// is where the resampled mask is >= 0.5.
#include "prn/augment/extended.h"

#include "augment/augmenters.h"
#include "augment/geometry.h"
#include "prn/error.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace prn::augment {
namespace {

using detail::bernoulli;
using detail::randint;
using detail::uniform;

struct Box {
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0; // inclusive
};

// Bounding box of a (h, w) bool mask; false when it is empty.
bool bounding_box(const torch::Tensor &m, Box *box) {
  auto rows = torch::nonzero(m.any(1)).view({-1}).cpu(), cols = torch::nonzero(m.any(0)).view({-1}).cpu();
  if (rows.numel() == 0)
    return false;
  box->y0 = rows[0].item<int64_t>();
  box->y1 = rows[-1].item<int64_t>();
  box->x0 = cols[0].item<int64_t>();
  box->x1 = cols[-1].item<int64_t>();
  return true;
}

void check_options(const ExtendedOptions &o) {
  auto prob = [](double p, const char *name) {
    PRN_CHECK(p >= 0 && p <= 1, "extend_anomaly: expected ", name, " in [0, 1], got ", p);
  };
  prob(o.p_flip, "p_flip");
  prob(o.p_rot90, "p_rot90");
  prob(o.p_blur, "p_blur");
  prob(o.p_noise, "p_noise");
  prob(o.p_grid, "p_grid");
  prob(o.p_elastic, "p_elastic");
  PRN_CHECK(o.scale_min > 0 && o.scale_min <= o.scale_max,
            "extend_anomaly: expected 0 < scale_min <= scale_max, got ", o.scale_min, " and ", o.scale_max);
  PRN_CHECK(o.rotate_deg >= 0 && o.shift >= 0, "extend_anomaly: expected rotate_deg >= 0 and shift >= 0, got ",
            o.rotate_deg, " and ", o.shift);
  PRN_CHECK(o.brightness >= 0 && o.brightness < 1 && o.contrast >= 0 && o.contrast < 1 && o.hue >= 0 &&
                o.hue <= 0.5,
            "extend_anomaly: expected brightness and contrast in [0, 1) and hue in [0, 0.5], got ", o.brightness,
            ", ", o.contrast, " and ", o.hue);
}

// Monotone piecewise-linear map of [0, n) onto itself (albumentations'
// GridDistortion along one axis: 5 cells, each stretched by 1 +- 0.3):
// source coordinate for every output pixel centre.
torch::Tensor grid_axis(int64_t n, at::Generator &gen) {
  constexpr int kSteps = 5;
  std::vector<double> src(kSteps + 1, 0.0);
  for (int i = 1; i <= kSteps; ++i)
    src[i] = src[i - 1] + 1.0 + uniform(gen, -0.3, 0.3);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t x = 0; x < n; ++x) {
    const double u = (x + 0.5) / n * kSteps; // output position in cells
    const int k = std::min(kSteps - 1, static_cast<int>(u));
    const double s = src[k] + (u - k) * (src[k + 1] - src[k]);
    out[static_cast<size_t>(x)] = static_cast<float>(s / src[kSteps] * n - 0.5);
  }
  return torch::tensor(out);
}

struct Region {
  torch::Tensor image; // (3, h, w), meaningful where mask
  torch::Tensor mask;  // (h, w) bool, non-empty unless `empty`
  bool empty = true;
};

// Resamples patch and mask together through scale/rotation and optional
// grid / elastic distortion; the result is cropped to the region's box.
Region warp_patch(const torch::Tensor &patch, const torch::Tensor &pm, double scale, double angle, bool grid,
                  bool elastic, at::Generator &gen) {
  const int64_t h = patch.size(1), w = patch.size(2);
  const double t = angle * M_PI / 180.0, c = std::abs(std::cos(t)), s = std::abs(std::sin(t));
  const double ext_w = scale * (c * w + s * h), ext_h = scale * (s * w + c * h);
  const double amp = elastic ? uniform(gen, 0.02, 0.05) * std::max(ext_w, ext_h) + 0.5 : 0.0;
  const int64_t margin = 1 + static_cast<int64_t>(std::ceil(2 * amp));
  const int64_t wc = static_cast<int64_t>(std::ceil(ext_w - 1e-9)) + 2 * margin;
  const int64_t hc = static_cast<int64_t>(std::ceil(ext_h - 1e-9)) + 2 * margin;

  const auto a = detail::rotate_scale(angle, scale, (w - 1) / 2.0, (h - 1) / 2.0, (wc - 1) / 2.0, (hc - 1) / 2.0);
  torch::Tensor g;
  if (grid || elastic) { // canvas point -> distorted canvas point -> patch point
    torch::Tensor pts;
    if (grid) {
      auto gy = grid_axis(hc, gen), gx = grid_axis(wc, gen);
      pts = torch::stack({gx.view({1, wc}).expand({hc, wc}), gy.view({hc, 1}).expand({hc, wc})}, -1);
    } else {
      pts = detail::pixel_grid(hc, wc);
    }
    if (elastic) { // smooth random displacement: a 4x4 field of N(0, amp) upsampled bicubically
      auto field = at::randn({1, 2, 4, 4}, gen, torch::kFloat32) * amp;
      field = at::upsample_bicubic2d(field, {hc, wc}, /*align_corners=*/true).squeeze(0);
      pts = pts + field.clamp(-2 * amp, 2 * amp).permute({1, 2, 0});
    }
    g = detail::normalise_grid(detail::apply_affine(a, pts), h, w);
  } else {
    g = detail::affine_grid(a, h, w, hc, wc);
  }
  auto both = detail::sample(torch::cat({patch * pm, pm}), g);
  auto weight = both[3];
  Region r;
  auto mask = weight >= 0.5;
  Box box;
  if (!bounding_box(mask, &box))
    return r;
  auto crop = [&](const torch::Tensor &x) { return x.slice(-2, box.y0, box.y1 + 1).slice(-1, box.x0, box.x1 + 1); };
  r.mask = crop(mask);
  r.image = torch::where(r.mask, crop(both.slice(0, 0, 3)) / crop(weight).clamp_min(0.5), 0.0f);
  r.empty = false;
  return r;
}

// Gaussian blur of the region, normalised within the mask.
torch::Tensor masked_blur(const torch::Tensor &img, const torch::Tensor &mask, double sigma) {
  const int64_t r = static_cast<int64_t>(std::ceil(2 * sigma));
  auto x = torch::arange(-r, r + 1, img.options());
  auto k = torch::exp(-(x * x) / (2 * sigma * sigma));
  k = k / k.sum();
  auto m = mask.to(img.scalar_type()).unsqueeze(0);
  auto in = torch::cat({img * m, m}).unsqueeze(0);
  const std::vector<int64_t> one{1, 1}, pad_x{0, r}, pad_y{r, 0};
  in = at::conv2d(in, k.view({1, 1, 1, -1}).expand({4, 1, 1, 2 * r + 1}).contiguous(), torch::Tensor(), one, pad_x,
                  one, 4);
  in = at::conv2d(in, k.view({1, 1, -1, 1}).expand({4, 1, 2 * r + 1, 1}).contiguous(), torch::Tensor(), one, pad_y,
                  one, 4);
  in = in.squeeze(0);
  return torch::where(mask, in.slice(0, 0, 3) / in[3].clamp_min(1e-6), img);
}

void photometric(Region &r, const ExtendedOptions &o, at::Generator &gen) {
  auto &img = r.image;
  if (o.brightness > 0)
    img = img * uniform(gen, 1 - o.brightness, 1 + o.brightness);
  if (o.contrast > 0) { // torchvision-style: towards the region's mean grey
    const double f = uniform(gen, 1 - o.contrast, 1 + o.contrast);
    auto grey = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2];
    auto mean = grey.masked_select(r.mask).mean();
    img = mean + f * (img - mean);
  }
  img = img.clamp(0, 1);
  if (o.hue > 0)
    img = detail::shift_hue_saturation(img, uniform(gen, -o.hue, o.hue), 0.0);
  if (bernoulli(gen, o.p_blur))
    img = masked_blur(img, r.mask, uniform(gen, 0.5, 1.5));
  if (bernoulli(gen, o.p_noise)) {
    const double sd = uniform(gen, 0.01, 0.05);
    img = img + at::randn(img.sizes(), gen, torch::kFloat32).to(img.device()) * sd;
  }
  img = img.clamp(0, 1);
}

} // namespace

Synthesised extend_anomaly(const torch::Tensor &normal, const torch::Tensor &anomaly_image,
                           const torch::Tensor &anomaly_mask, at::Generator &gen, const ExtendedOptions &options,
                           const torch::Tensor &foreground) {
  detail::check_image(normal, "extend_anomaly: normal image");
  detail::check_image(anomaly_image, "extend_anomaly: anomaly image");
  const int64_t H = normal.size(1), W = normal.size(2);
  const int64_t ha = anomaly_image.size(1), wa = anomaly_image.size(2);
  detail::check_mask(anomaly_mask, ha, wa, "extend_anomaly: anomaly mask");
  if (foreground.defined())
    detail::check_mask(foreground, H, W, "extend_anomaly: foreground");
  check_options(options);
  const auto dev = normal.device();

  Synthesised out{normal.clone(), torch::zeros({1, H, W}, normal.options())};
  auto seen = anomaly_mask[0].to(dev) > 0.5;
  Box box;
  if (!bounding_box(seen, &box))
    return out; // no seen region: nothing to paste

  auto crop = [&](const torch::Tensor &x) { return x.slice(-2, box.y0, box.y1 + 1).slice(-1, box.x0, box.x1 + 1); };
  auto patch = crop(anomaly_image.to(dev));
  auto pm = crop(seen).to(torch::kFloat32).unsqueeze(0);

  // Exact geometry: flips and quarter turns.
  if (bernoulli(gen, options.p_flip)) {
    patch = patch.flip({2});
    pm = pm.flip({2});
  }
  if (bernoulli(gen, options.p_flip)) {
    patch = patch.flip({1});
    pm = pm.flip({1});
  }
  if (bernoulli(gen, options.p_rot90)) {
    const int64_t k = randint(gen, 1, 4);
    patch = torch::rot90(patch, k, {1, 2});
    pm = torch::rot90(pm, k, {1, 2});
  }
  // One resampling: scale, rotation, distortions.
  const double scale = uniform(gen, options.scale_min, options.scale_max);
  const double angle = uniform(gen, -options.rotate_deg, options.rotate_deg);
  const bool grid = bernoulli(gen, options.p_grid), elastic = bernoulli(gen, options.p_elastic);
  Region region = warp_patch(patch.contiguous(), pm.contiguous(), scale, angle, grid, elastic, gen);
  if (region.empty) // a tiny region vanished in the resampling: keep it unwarped
    region = warp_patch(patch.contiguous(), pm.contiguous(), 1.0, 0.0, false, false, gen);
  if (region.empty)
    return out;
  photometric(region, options, gen);

  // Placement: a top-left corner uniform among those within `shift` of the
  // side from the seen region's position (scaled to H x W) that keep the
  // region inside the image (or the nearest one). With a foreground, up to 10
  // positions are tried for one that keeps at least half of the region on it;
  // the best one is used.
  const int64_t rh = region.mask.size(0), rw = region.mask.size(1);
  const double base_top = ((box.y0 + box.y1) / 2.0 + 0.5) * H / ha - 0.5 - (rh - 1) / 2.0;
  const double base_left = ((box.x0 + box.x1) / 2.0 + 0.5) * W / wa - 0.5 - (rw - 1) / 2.0;
  auto position = [&](double base, int64_t side, int64_t size) {
    const double fit_lo = std::min<int64_t>(0, side - size), fit_hi = std::max<int64_t>(0, side - size);
    double lo = std::max(fit_lo, base - options.shift * side), hi = std::min(fit_hi, base + options.shift * side);
    if (lo > hi)
      lo = hi = std::clamp(base, fit_lo, fit_hi);
    return std::clamp<int64_t>(std::llround(uniform(gen, lo, hi)), static_cast<int64_t>(fit_lo),
                               static_cast<int64_t>(fit_hi));
  };
  auto fg = foreground.defined() ? foreground[0].to(dev) > 0.5 : torch::Tensor();
  const double total = region.mask.sum().item<double>();
  const int tries = (fg.defined() && options.shift > 0) ? 10 : 1;
  double best_score = -1;
  int64_t best_top = 0, best_left = 0;
  for (int i = 0; i < tries; ++i) {
    const int64_t top = position(base_top, H, rh);
    const int64_t left = position(base_left, W, rw);
    double score = 1.0;
    if (fg.defined()) {
      const int64_t y0 = std::max<int64_t>(0, top), y1 = std::min(H, top + rh);
      const int64_t x0 = std::max<int64_t>(0, left), x1 = std::min(W, left + rw);
      auto part = region.mask.slice(0, y0 - top, y1 - top).slice(1, x0 - left, x1 - left);
      score = (part & fg.slice(0, y0, y1).slice(1, x0, x1)).sum().item<double>() / total;
    }
    if (score > best_score) {
      best_score = score;
      best_top = top;
      best_left = left;
    }
    if (score >= 0.5)
      break;
  }

  const int64_t y0 = std::max<int64_t>(0, best_top), y1 = std::min(H, best_top + rh);
  const int64_t x0 = std::max<int64_t>(0, best_left), x1 = std::min(W, best_left + rw);
  auto placed = region.mask.slice(0, y0 - best_top, y1 - best_top).slice(1, x0 - best_left, x1 - best_left);
  if (fg.defined())
    placed = placed & fg.slice(0, y0, y1).slice(1, x0, x1);
  auto pixels = region.image.slice(1, y0 - best_top, y1 - best_top).slice(2, x0 - best_left, x1 - best_left);
  auto window = out.image.slice(1, y0, y1).slice(2, x0, x1);
  window.copy_(torch::where(placed, pixels, window));
  out.mask.slice(1, y0, y1).slice(2, x0, x1).copy_(placed.to(torch::kFloat32).unsqueeze(0));
  return out;
}

} // namespace prn::augment
