// prnanomaly data: labelled crops of textures, the examples the encoder's
// texture pretraining learns from (prn::pretrain_encoder, docs/training.md
// "Without ImageNet weights").
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace prn::data {

struct TextureCropOptions {
  int64_t crop = 96;          // side of the square crops, pixels
  double max_scale_log2 = 1;  // each crop rescaled by 2^u, u uniform in [-max, +max]
  double grey = 0.5;          // share of crops turned grey (line cameras are often monochrome)
  double contrast = 0.3;      // contrast factor uniform in [1 - c, 1 + c], around the crop's mean
  double brightness = 0.15;   // offset uniform in [-b, +b]
};

// Draws batches of square crops from a set of textures, each labelled with the
// index of its texture: a class per texture. A crop takes a random window of
// the texture (tiled when the texture is smaller than the window) at a random
// scale, resizes it to `crop` (antialiased when shrinking), turns it by a
// multiple of 90 degrees, mirrors it, and jitters grey / contrast / brightness.
// Deterministic for (seed, batch index): batch i is the same whatever came before.
class TextureCrops {
public:
  // textures: (3, H, W) float32 RGB in [0, 1] (prn::data::load_texture), at least 2.
  TextureCrops(std::vector<torch::Tensor> textures, TextureCropOptions options, uint64_t seed);

  // Batch `index`: images (batch, 3, crop, crop) float32 in [0, 1], labels (batch) int64.
  std::pair<torch::Tensor, torch::Tensor> batch(int64_t index, int64_t batch) const;

  int64_t classes() const { return static_cast<int64_t>(textures_.size()); }

private:
  std::vector<torch::Tensor> textures_;
  TextureCropOptions options_;
  uint64_t seed_;
};

} // namespace prn::data
