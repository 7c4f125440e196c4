#include "prn/data/texture_crops.h"

#include "prn/error.h"
#include "rng.h"

#include <cmath>

namespace prn::data {

using detail::Rng;

TextureCrops::TextureCrops(std::vector<torch::Tensor> textures, TextureCropOptions options, uint64_t seed)
    : textures_(std::move(textures)), options_(options), seed_(seed) {
  PRN_CHECK(textures_.size() >= 2, "texture crops: expected at least 2 textures (one class each), got ",
            textures_.size());
  PRN_CHECK(options_.crop >= 16, "texture crops: expected a crop of at least 16 pixels, got ", options_.crop);
  PRN_CHECK(options_.max_scale_log2 >= 0 && options_.max_scale_log2 <= 3,
            "texture crops: expected a scale range (log2) in [0, 3], got ", options_.max_scale_log2);
  PRN_CHECK(options_.grey >= 0 && options_.grey <= 1, "texture crops: expected a grey share in [0, 1], got ",
            options_.grey);
  PRN_CHECK(options_.contrast >= 0 && options_.contrast < 1,
            "texture crops: expected a contrast jitter in [0, 1), got ", options_.contrast);
  PRN_CHECK(options_.brightness >= 0 && options_.brightness <= 1,
            "texture crops: expected a brightness jitter in [0, 1], got ", options_.brightness);
  for (size_t i = 0; i < textures_.size(); ++i) {
    const auto &t = textures_[i];
    PRN_CHECK(t.defined() && t.dim() == 3 && t.size(0) == 3 && t.size(1) >= 8 && t.size(2) >= 8 &&
                  t.scalar_type() == torch::kFloat32,
              "texture crops: texture ", i, ": expected (3, H, W) float32 with H, W >= 8, got ",
              t.defined() ? t.sizes() : torch::IntArrayRef{});
    textures_[i] = t.contiguous();
  }
}

std::pair<torch::Tensor, torch::Tensor> TextureCrops::batch(int64_t index, int64_t batch) const {
  PRN_CHECK(batch >= 1, "texture crops: expected a batch of at least 1, got ", batch);
  PRN_CHECK(index >= 0, "texture crops: expected a batch index >= 0, got ", index);
  const int64_t S = options_.crop;
  auto images = torch::empty({batch, 3, S, S});
  auto labels = torch::empty({batch}, torch::kInt64);
  Rng rng{seed_ * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(index) * 0xbf58476d1ce4e5b9ULL + 0x7c0b5u};
  for (int64_t b = 0; b < batch; ++b) {
    const auto c = static_cast<int64_t>(rng.below(textures_.size()));
    torch::Tensor t = textures_[c];
    const double scale = std::exp2(rng.uniform(-options_.max_scale_log2, options_.max_scale_log2));
    const int64_t window = std::max<int64_t>(8, std::llround(static_cast<double>(S) / scale));
    const int64_t h = t.size(1), w = t.size(2);
    if (h < window || w < window) // small seamless tiles (GIMP patterns): repeat them
      t = t.repeat({1, window / h + 2, window / w + 2});
    const int64_t y0 = rng.integer(0, t.size(1) - window), x0 = rng.integer(0, t.size(2) - window);
    auto crop = t.narrow(1, y0, window).narrow(2, x0, window).unsqueeze(0);
    if (window > S)
      crop = at::_upsample_bilinear2d_aa(crop, {S, S}, /*align_corners=*/false);
    else if (window < S)
      crop = at::upsample_bilinear2d(crop, {S, S}, /*align_corners=*/false);
    crop = crop.squeeze(0);
    const int64_t turns = rng.integer(0, 3);
    if (turns > 0)
      crop = torch::rot90(crop, turns, {1, 2});
    if (rng.uniform() < 0.5)
      crop = crop.flip({2});
    if (rng.uniform() < options_.grey)
      crop = crop.mean(0, true).expand({3, S, S});
    const double gain = rng.uniform(1 - options_.contrast, 1 + options_.contrast);
    const double offset = rng.uniform(-options_.brightness, options_.brightness);
    const auto mean = crop.mean();
    images[b].copy_(((crop - mean) * gain + mean + offset).clamp(0, 1));
    labels[b] = c;
  }
  return {images, labels};
}

} // namespace prn::data
