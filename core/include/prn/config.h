// prnanomaly core: the network's hyper-parameters. One code path builds both the
// faithful `paper` configuration and the `light` one; a model bundle records them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prn {

// Channels of ResNet-18 layers 1, 2, 3 (fixed by the encoder).
inline constexpr std::array<int64_t, 3> kEncoderChannels{64, 128, 256};
// Spatial stride of layers 1, 2, 3 relative to the input.
inline constexpr std::array<int64_t, 3> kEncoderStrides{4, 8, 16};

struct ModelConfig {
  std::string name = "paper";
  // Side of the square model input, in pixels (multiple of 16 * the largest
  // patch divisor so every attention patch tiles its feature map exactly).
  int64_t input_size = 256;
  // Per-scale width after concatenating fused features and fused residuals
  // (2 * encoder channels = 128/256/512 in the paper; narrower widths insert a
  // 1x1 projection). Must double from one scale to the next.
  std::array<int64_t, 3> channels{128, 256, 512};
  // Multi-size self-attention: stacked blocks per scale, and the patch sizes of
  // each block as divisors of the feature map side (1 -> patch = whole map).
  int64_t attention_blocks = 3;
  std::vector<int64_t> patch_divisors{1, 2, 4, 8};
  // Width of the last, full-resolution decoder conv.
  int64_t head_channels = 64;

  // Loss: total = smooth_l1 + loss_lambda * focal.
  double focal_alpha = 0.5;
  double focal_gamma = 4.0;
  double loss_lambda = 5.0;
  // Image score = mean of the top_k pixel scores.
  int64_t top_k = 100;
  // Gaussian smoothing of the anomaly map before any scoring (prn::smooth_maps),
  // sigma in pixels of the model input; 0: none (the paper's map as it is).
  double map_sigma = 0.0;
  // Prototypes per scale = max(1, round(prototype_ratio * normal images)),
  // unless num_prototypes > 0 fixes it.
  double prototype_ratio = 0.1;
  int64_t num_prototypes = 0;
  int64_t kmeans_max_iter = 300;

  static ModelConfig paper();
  static ModelConfig light();
  // "paper" or "light"; throws prn::Error naming the accepted names otherwise.
  static ModelConfig by_name(const std::string &name);

  // Feature-map side of scale s (0..2) for this input size.
  int64_t feature_size(int s) const { return input_size / kEncoderStrides[s]; }
  // Decoder width at scale s.
  int64_t decoder_channels(int s) const { return channels[s] / 2; }

  // Throws prn::Error naming the first inconsistent field.
  void validate() const;

  // Flat key -> value text form, recorded in model files. from_map accepts
  // maps with unknown keys (ignored) and missing keys (defaults).
  std::map<std::string, std::string> to_map() const;
  static ModelConfig from_map(const std::map<std::string, std::string> &m);

  bool operator==(const ModelConfig &) const = default;
};

} // namespace prn
