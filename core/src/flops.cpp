#include "prn/flops.h"

namespace prn {
namespace {

// 2 * in/groups * k*k * out * side^2
double conv_flops(int64_t in, int64_t out, int64_t k, int64_t side, int64_t groups = 1) {
  return 2.0 * static_cast<double>(in / groups) * static_cast<double>(k * k) * static_cast<double>(out) *
         static_cast<double>(side * side);
}

double fusion_flops(const std::array<int64_t, 3> &c, const std::array<int64_t, 3> &side) {
  double f = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      if (i < j) {
        const int64_t step = int64_t{1} << (j - i);
        f += conv_flops(c[i], c[j], step + 1, side[j], c[i]);
      } else if (i > j) {
        f += conv_flops(c[i], c[j], 1, side[i]);
      }
    }
  return f;
}

} // namespace

CostReport count_flops(const ModelConfig &config, int64_t num_prototypes) {
  CostReport r;
  const int64_t S = config.input_size;
  const std::array<int64_t, 3> side{config.feature_size(0), config.feature_size(1), config.feature_size(2)};
  const auto &enc = kEncoderChannels;
  const auto &ch = config.channels;
  auto add = [&](const std::string &stage, double flops, double conv_part) {
    r.stages.push_back({stage, flops});
    r.total_flops += flops;
    r.conv_flops += conv_part;
  };

  // Encoder: stem, then two BasicBlocks per layer.
  double e = conv_flops(3, 64, 7, S / 2);
  e += 4 * conv_flops(64, 64, 3, side[0]);
  e += conv_flops(64, 128, 3, side[1]) + 3 * conv_flops(128, 128, 3, side[1]) + conv_flops(64, 128, 1, side[1]);
  e += conv_flops(128, 256, 3, side[2]) + 3 * conv_flops(256, 256, 3, side[2]) + conv_flops(128, 256, 1, side[2]);
  add("encoder (ResNet-18 layers 1-3)", e, e);

  double p = 0;
  for (int s = 0; s < 3; ++s) {
    const double d = static_cast<double>(enc[s] * side[s] * side[s]);
    p += 3.0 * d * static_cast<double>(num_prototypes) + 2.0 * d;
  }
  add("prototype search + residual", p, 0);

  const double f_in = 2 * fusion_flops(enc, side);
  add("fusion (features and residuals)", f_in, f_in);

  double proj = 0;
  for (int s = 0; s < 3; ++s)
    if (ch[s] != 2 * enc[s])
      proj += conv_flops(2 * enc[s], ch[s], 1, side[s]);
  if (proj > 0)
    add("1x1 projection", proj, proj);

  double att_mm = 0, att_conv = 0;
  const int64_t nd = static_cast<int64_t>(config.patch_divisors.size());
  for (int s = 0; s < 3; ++s) {
    for (int64_t b = 0; b < config.attention_blocks; ++b) {
      for (int64_t d : config.patch_divisors) {
        const double tokens = static_cast<double>(d * d);
        const double dim = static_cast<double>(ch[s] * side[s] * side[s]) / tokens;
        if (d == 1) { // one token: the branch is its value map alone
          att_mm += 2 * tokens * dim;
          continue;
        }
        att_mm += 3 * 2 * tokens * dim;          // q, k, v element-wise affine maps
        att_mm += 2 * 2 * tokens * tokens * dim; // q k^T and attn v
      }
      att_conv += conv_flops(nd * ch[s], ch[s], 3, side[s]) + conv_flops(ch[s], ch[s], 3, side[s]) +
                  conv_flops(nd * ch[s], ch[s], 1, side[s]);
    }
  }
  add("multi-size self-attention: q/k/v + matmuls", att_mm, 0);
  add("multi-size self-attention: reduction convs", att_conv, att_conv);

  const double f_out = fusion_flops(ch, side);
  add("fusion (after attention)", f_out, f_out);

  const std::array<int64_t, 3> dec{config.decoder_channels(0), config.decoder_channels(1), config.decoder_channels(2)};
  double dconv = conv_flops(ch[2], dec[2], 3, side[2]);
  for (int s = 1; s >= 0; --s)
    dconv += conv_flops(dec[s + 1], dec[s], 3, side[s]) + conv_flops(dec[s] + ch[s], dec[s], 3, side[s]) +
             conv_flops(dec[s], dec[s], 3, side[s]);
  add("decoder (scales 3 -> 1)", dconv, dconv);
  const double head = conv_flops(dec[0], config.head_channels, 3, S) + conv_flops(config.head_channels, 1, 1, S);
  add("decoder head (full resolution)", head, head);
  return r;
}

} // namespace prn
