// DRAEM's augmenter set (imgaug's, as DRAEM configures it) on float images in
// [0, 1]. 8-bit quantities of imgaug / PIL (offsets, thresholds, histograms)
// are taken on the 0-255 scale and mapped to [0, 1].
#include "prn/augment/simulated.h"

#include "augment/augmenters.h"
#include "augment/geometry.h"
#include "prn/error.h"

#include <algorithm>
#include <vector>

namespace prn::augment {
namespace detail {

void check_image(const torch::Tensor &img, const char *what) {
  PRN_CHECK(img.defined(), what, ": expected a (3, H, W) float32 image, got an undefined tensor");
  PRN_CHECK(img.dim() == 3 && img.size(0) == 3 && img.size(1) > 0 && img.size(2) > 0, what,
            ": expected a (3, H, W) image, got shape ", img.sizes());
  PRN_CHECK(img.scalar_type() == torch::kFloat32, what, ": expected float32, got ", img.scalar_type());
}

void check_mask(const torch::Tensor &mask, int64_t h, int64_t w, const char *what) {
  PRN_CHECK(mask.defined(), what, ": expected a (1, ", h, ", ", w, ") float32 mask, got an undefined tensor");
  PRN_CHECK(mask.dim() == 3 && mask.size(0) == 1 && mask.size(1) == h && mask.size(2) == w, what,
            ": expected shape (1, ", h, ", ", w, "), got ", mask.sizes());
  PRN_CHECK(mask.scalar_type() == torch::kFloat32, what, ": expected float32, got ", mask.scalar_type());
}

torch::Tensor rgb_to_hsv(const torch::Tensor &rgb) {
  auto r = rgb[0], g = rgb[1], b = rgb[2];
  auto maxc = rgb.amax(0), minc = rgb.amin(0);
  auto delta = maxc - minc;
  auto s = delta / maxc.clamp_min(1e-12); // 0 where maxc = 0 (then delta = 0)
  auto inv = delta.clamp_min(1e-12).reciprocal();
  // Sextant of the maximum; all differences vanish where delta = 0, giving hue 0.
  auto h = torch::where(r == maxc, (g - b) * inv, torch::where(g == maxc, (b - r) * inv + 2.0, (r - g) * inv + 4.0));
  h = torch::remainder(h * (1.0 / 6.0), 1.0);
  return torch::stack({h, s, maxc});
}

torch::Tensor hsv_to_rgb(const torch::Tensor &hsv) {
  auto h = hsv.slice(0, 0, 1), s = hsv.slice(0, 1, 2), v = hsv.slice(0, 2, 3);
  // c_n = v - v s clamp(min(k, 4 - k), 0, 1), k = (n + 6 h) mod 6, n = 5, 3, 1 for R, G, B.
  auto n = torch::tensor({5.0f, 3.0f, 1.0f}, hsv.options()).view({3, 1, 1});
  auto k = torch::remainder(h * 6.0 + n, 6.0);
  auto t = torch::minimum(k, 4.0 - k).clamp_(0.0, 1.0);
  return v - (v * s) * t;
}

torch::Tensor shift_hue_saturation(const torch::Tensor &img, double hue_turns, double sat_add) {
  auto hsv = rgb_to_hsv(img);
  auto h = torch::remainder(hsv[0] + hue_turns, 1.0);
  auto s = (hsv[1] + sat_add).clamp(0, 1);
  return hsv_to_rgb(torch::stack({h, s, hsv[2]})).clamp(0, 1);
}

torch::Tensor to_levels(const torch::Tensor &img) {
  return (img * 255.0).round().clamp(0, 255).to(torch::kInt64);
}

torch::Tensor gamma_contrast(const torch::Tensor &img, const std::array<double, 3> &gammas) {
  auto g = torch::tensor({gammas[0], gammas[1], gammas[2]}, img.options()).view({3, 1, 1});
  return torch::pow(img.clamp(0, 1), g);
}

torch::Tensor multiply_add_brightness(const torch::Tensor &img, double mul, double add) {
  // imgaug works on Y of YCrCb; moving Y by d moves R, G and B by d.
  auto y = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2];
  auto y2 = (y * mul + add).clamp(0, 1);
  return (img + (y2 - y).unsqueeze(0)).clamp(0, 1);
}

torch::Tensor sharpness(const torch::Tensor &img, double factor) {
  // PIL: blend with the SMOOTH-filtered image ([1 1 1; 1 5 1; 1 1 1] / 13),
  // whose border pixels are the original's. The 3x3 sum is taken separably.
  const int64_t h = img.size(1), w = img.size(2);
  if (h < 3 || w < 3)
    return img.clone();
  auto rows = img.slice(1, 0, h - 2) + img.slice(1, 1, h - 1) + img.slice(1, 2, h);
  auto box = rows.slice(2, 0, w - 2) + rows.slice(2, 1, w - 1) + rows.slice(2, 2, w);
  auto centre = img.slice(1, 1, h - 1).slice(2, 1, w - 1);
  auto degenerate = img.clone();
  degenerate.slice(1, 1, h - 1).slice(2, 1, w - 1).copy_((box + 4.0 * centre) * (1.0 / 13.0));
  return (degenerate + factor * (img - degenerate)).clamp(0, 1);
}

torch::Tensor solarize(const torch::Tensor &img, double threshold) {
  return torch::where(img >= threshold, 1.0 - img, img);
}

torch::Tensor posterize(const torch::Tensor &img, int64_t bits) {
  PRN_CHECK(bits >= 1 && bits <= 8, "posterize: expected 1 to 8 bits, got ", bits);
  // Clearing the low 8 - bits bits of a level = rounding it down to a multiple of 2^(8 - bits).
  const double step = static_cast<double>(int64_t{1} << (8 - bits));
  return torch::floor((img * 255.0).round_().clamp_(0, 255) * (1.0 / step)) * (step / 255.0);
}

torch::Tensor invert(const torch::Tensor &img) { return 1.0 - img; }

namespace {

// Per-channel 256-bin histograms of the 8-bit levels: (3, 256) int64 on the CPU.
torch::Tensor histograms(const torch::Tensor &levels) {
  auto flat = levels.reshape({3, -1}).cpu();
  auto offsets = torch::arange(3, torch::kInt64).view({3, 1}) * 256;
  return torch::bincount((flat + offsets).reshape({-1}), {}, 3 * 256).view({3, 256});
}

} // namespace

torch::Tensor autocontrast(const torch::Tensor &img, double cutoff) {
  auto hist = histograms(to_levels(img));
  auto acc = hist.accessor<int64_t, 2>();
  std::vector<double> lo_v(3), scale_v(3);
  for (int c = 0; c < 3; ++c) {
    std::vector<int64_t> h(256);
    int64_t n = 0;
    for (int i = 0; i < 256; ++i)
      n += (h[i] = acc[c][i]);
    const auto cut_count = static_cast<int64_t>(static_cast<double>(n) * cutoff / 100.0);
    auto cut_from = [&](int start, int step) {
      int64_t cut = cut_count;
      for (int i = start; i >= 0 && i < 256 && cut > 0; i += step) {
        const int64_t take = std::min(cut, h[i]);
        h[i] -= take;
        cut -= take;
      }
    };
    cut_from(0, 1);
    cut_from(255, -1);
    int lo = 0, hi = 255;
    while (lo < 256 && h[lo] == 0)
      ++lo;
    while (hi >= 0 && h[hi] == 0)
      --hi;
    if (hi <= lo) { // flat: identity
      lo_v[c] = 0;
      scale_v[c] = 1;
    } else {
      lo_v[c] = lo / 255.0;
      scale_v[c] = 255.0 / (hi - lo);
    }
  }
  auto lo_t = torch::tensor(lo_v, img.options()).view({3, 1, 1});
  auto scale_t = torch::tensor(scale_v, img.options()).view({3, 1, 1});
  return ((img - lo_t) * scale_t).clamp(0, 1);
}

torch::Tensor equalize(const torch::Tensor &img) {
  auto levels = to_levels(img);
  auto hist = histograms(levels);
  auto acc = hist.accessor<int64_t, 2>();
  auto lut = torch::empty({3, 256}, torch::kFloat32);
  auto lacc = lut.accessor<float, 2>();
  for (int c = 0; c < 3; ++c) {
    int64_t total = 0, last = 0;
    for (int i = 0; i < 256; ++i)
      if (acc[c][i] > 0) {
        total += acc[c][i];
        last = acc[c][i];
      }
    const int64_t step = (total - last) / 255;
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      if (step == 0) {
        lacc[c][i] = static_cast<float>(i) / 255.0f;
      } else {
        lacc[c][i] = static_cast<float>(std::min<int64_t>(n / step, 255)) / 255.0f;
        n += acc[c][i];
      }
    }
  }
  lut = lut.to(img.device());
  return torch::gather(lut, 1, levels.reshape({3, -1})).view(img.sizes());
}

const char *draem_augmenter_name(int index) {
  static const char *const names[kDraemAugmenters] = {"gamma", "brightness", "sharpness", "hue_saturation",
                                                      "solarize", "posterize", "invert", "autocontrast",
                                                      "equalize", "rotate"};
  PRN_CHECK(index >= 0 && index < kDraemAugmenters, "draem augmenter: expected an index in [0, ",
            kDraemAugmenters, "), got ", index);
  return names[index];
}

torch::Tensor apply_draem_augmenter(int index, const torch::Tensor &img, at::Generator &gen) {
  switch (index) {
  case 0: // iaa.GammaContrast((0.5, 2.0), per_channel=True)
    return gamma_contrast(img, {uniform(gen, 0.5, 2.0), uniform(gen, 0.5, 2.0), uniform(gen, 0.5, 2.0)});
  case 1: { // iaa.MultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(-30, 30))
    const double mul = uniform(gen, 0.8, 1.2);
    return multiply_add_brightness(img, mul, uniform(gen, -30.0, 30.0) / 255.0);
  }
  case 2: // iaa.pillike.EnhanceSharpness(): factor in (0, 2)
    return sharpness(img, uniform(gen, 0.0, 2.0));
  case 3: { // iaa.AddToHueAndSaturation((-50, 50), per_channel=True): hue +-50/255 turn, sat +-50/255
    const double hue = uniform(gen, -50.0, 50.0) / 255.0;
    return shift_hue_saturation(img, hue, uniform(gen, -50.0, 50.0) / 255.0);
  }
  case 4: { // iaa.Solarize(0.5, threshold=(32, 128))
    const double threshold = uniform(gen, 32.0, 128.0) / 255.0;
    return bernoulli(gen, 0.5) ? solarize(img, threshold) : img.clone();
  }
  case 5: // iaa.Posterize(): nb_bits in 1..8
    return posterize(img, randint(gen, 1, 9));
  case 6: // iaa.Invert()
    return invert(img);
  case 7: // iaa.pillike.Autocontrast(): cutoff 0..20 percent
    return autocontrast(img, static_cast<double>(randint(gen, 0, 21)));
  case 8: // iaa.pillike.Equalize()
    return equalize(img);
  case 9: // iaa.Affine(rotate=(-45, 45))
    return rotate(img, uniform(gen, -45.0, 45.0));
  default:
    PRN_CHECK(false, "draem augmenter: expected an index in [0, ", kDraemAugmenters, "), got ", index);
  }
  return img;
}

torch::Tensor draem_augment_traced(const torch::Tensor &image, at::Generator &gen, std::array<int, 3> *chosen) {
  check_image(image, "draem_augment");
  auto order = at::randperm(kDraemAugmenters, gen, torch::kInt64);
  auto out = image.clamp(0, 1);
  for (int i = 0; i < 3; ++i) {
    const int index = static_cast<int>(order[i].item<int64_t>());
    if (chosen)
      (*chosen)[i] = index;
    out = apply_draem_augmenter(index, out, gen);
  }
  return out.clamp(0, 1).contiguous();
}

} // namespace detail

torch::Tensor draem_augment(const torch::Tensor &image, at::Generator &gen) {
  return detail::draem_augment_traced(image, gen, nullptr);
}

} // namespace prn::augment
