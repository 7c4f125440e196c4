#include "prn/fusion.h"

#include "prn/conv_bn_fold.h"
#include "prn/error.h"
#include "prn/ops/depthwise_conv.h"

namespace prn {

namespace nn = torch::nn;

namespace {
// Finer scale i to coarser j: the side shrinks by this factor (the grouped
// conv's stride; kernel factor + 1, padding factor / 2).
int64_t down_factor(int i, int j) { return int64_t{1} << (j - i); }
} // namespace

MultiScaleFusionImpl::MultiScaleFusionImpl(std::array<int64_t, 3> channels) : channels_(channels) {
  resample_.assign(3, std::vector<nn::Conv2d>(3, nn::Conv2d(nullptr)));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i == j)
        continue;
      nn::Conv2d conv{nullptr};
      if (i < j) {
        const int64_t f = down_factor(i, j);
        PRN_CHECK(channels[j] % channels[i] == 0, "fusion: channels[", j, "] = ", channels[j],
                  " must be a multiple of channels[", i, "] = ", channels[i]);
        conv = nn::Conv2d(nn::Conv2dOptions(channels[i], channels[j], f + 1).stride(f).padding(f / 2).groups(
            channels[i]));
      } else {
        conv = nn::Conv2d(nn::Conv2dOptions(channels[i], channels[j], 1));
      }
      resample_[i][j] = register_module("from" + std::to_string(i) + "_to" + std::to_string(j), conv);
    }
  }
}

Scales MultiScaleFusionImpl::forward(const Scales &x) {
  for (int s = 0; s < 3; ++s) {
    PRN_CHECK(x[s].dim() == 4 && x[s].size(1) == channels_[s], "fusion: expected ", channels_[s],
              " channels at scale ", s, ", got shape ", x[s].sizes());
  }
  // Inference (eval mode, no autograd): accumulate in place, one buffer per
  // scale; the grouped convs as prn::ops::depthwise_conv2d, which adds its
  // output to the sum so far (oneDNN runs them at 5-15 GFLOP/s).
  const bool in_place = !is_training() && inference_fast_path(x[0]);
  Scales y;
  for (int j = 0; j < 3; ++j) {
    auto acc = x[j];
    const auto size = std::vector<int64_t>{x[j].size(2), x[j].size(3)};
    for (int i = 0; i < 3; ++i) {
      if (i == j)
        continue;
      if (in_place && i < j) {
        const auto &conv = resample_[i][j];
        const int64_t f = down_factor(i, j);
        acc = ops::depthwise_conv2d(x[i], conv->weight, conv->bias, f, f / 2, acc);
        continue;
      }
      auto r = resample_[i][j]->forward(x[i]);
      if (i > j) {
        r = torch::nn::functional::interpolate(
            r, torch::nn::functional::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false));
      }
      if (in_place && acc.unsafeGetTensorImpl() != x[j].unsafeGetTensorImpl())
        acc.add_(r);
      else
        acc = acc + r;
    }
    y[j] = acc;
  }
  return y;
}

} // namespace prn
