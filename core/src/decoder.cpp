#include "prn/decoder.h"

#include "internal/batch_groups.h"
#include "internal/channels_last.h"

#include "prn/batchnorm.h"
#include "prn/conv_bn_fold.h"
#include "prn/error.h"

#include <algorithm>

namespace prn {
namespace {

namespace nn = torch::nn;

// Bytes of one full-resolution map of the tail that a group of images may
// fill: the upsampled map, the head's output and the 1x1 conv's input then
// stay in the last-level cache between the three ops instead of going through
// memory (light: 4 images of 16 x 128 x 128; paper: 1 of 64 x 256 x 256).
// Measured on a 2-core EPYC with 32 MiB L3: light's tail 9.1 ms per batch of 8
// in one piece, 3.9 ms in groups of 4.
constexpr int64_t kTailGroupBytes = int64_t{4} << 20;

nn::Sequential conv_bn_relu(int64_t in, int64_t out) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)), SyncableBatchNorm2d(out),
                        nn::ReLU(nn::ReLUOptions().inplace(true)));
}

nn::Sequential double_conv(int64_t in, int64_t out) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)), SyncableBatchNorm2d(out),
                        nn::ReLU(nn::ReLUOptions().inplace(true)),
                        nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)), SyncableBatchNorm2d(out),
                        nn::ReLU(nn::ReLUOptions().inplace(true)));
}

torch::Tensor upsample(const torch::Tensor &x, int64_t size) {
  return nn::functional::interpolate(x, nn::functional::InterpolateFuncOptions()
                                            .size(std::vector<int64_t>{size, size})
                                            .mode(torch::kBilinear)
                                            .align_corners(false));
}

// A conv_bn_relu or double_conv block, (conv, BN, ReLU) repeated, for eval-mode
// inference: each BN folded into its conv (folds[i / 3]), the ReLU in place.
// A step the fold does not apply to runs its modules as they are.
torch::Tensor forward_folded(nn::Sequential &block, std::vector<ConvBnFold> &folds, const torch::Tensor &x) {
  PRN_CHECK(folds.size() * 3 == block->size(), "decoder: expected one fold per (conv, BatchNorm, ReLU) step, got ",
            folds.size(), " for ", block->size(), " modules");
  torch::Tensor y = x;
  for (size_t i = 0; i + 2 < block->size(); i += 3) {
    auto *conv = block[i]->as<nn::Conv2d>();
    auto *bn = block[i + 1]->as<SyncableBatchNorm2d>();
    PRN_CHECK(conv != nullptr && bn != nullptr, "decoder: expected (conv, BatchNorm, ReLU) steps in a block");
    auto folded = folds[i / 3].apply(*conv, *bn, y);
    y = folded ? folded->relu_() : torch::relu(bn->forward(conv->forward(y)));
  }
  return y;
}

} // namespace

DecoderImpl::DecoderImpl(std::array<int64_t, 3> channels, int64_t head_channels, int64_t output_size)
    : channels_(channels), head_channels_(head_channels), output_size_(output_size) {
  std::array<int64_t, 3> d{channels[0] / 2, channels[1] / 2, channels[2] / 2};
  bottom = register_module("bottom", conv_bn_relu(channels[2], d[2]));
  for (int s = 1; s >= 0; --s) {
    up_[s] = register_module("up" + std::to_string(s), conv_bn_relu(d[s + 1], d[s]));
    merge_[s] = register_module("merge" + std::to_string(s), double_conv(d[s] + channels[s], d[s]));
  }
  head = register_module("head", conv_bn_relu(d[0], head_channels));
  out = register_module("out", nn::Conv2d(nn::Conv2dOptions(head_channels, 1, 1)));
  const std::array<nn::Sequential *, 6> blocks{&bottom, &up_[0], &merge_[0], &up_[1], &merge_[1], &head};
  for (size_t b = 0; b < blocks.size(); ++b)
    folds_[b].resize((*blocks[b])->size() / 3);
}

torch::Tensor DecoderImpl::forward(const Scales &x) {
  for (int s = 0; s < 3; ++s)
    PRN_CHECK(x[s].dim() == 4 && x[s].size(1) == channels_[s], "decoder: expected ", channels_[s],
              " channels at scale ", s, ", got shape ", x[s].sizes());
  if (!is_training() && inference_fast_path(x[2]))
    return forward_inference(x);
  auto y = bottom->forward(x[2]);
  for (int s = 1; s >= 0; --s) {
    y = up_[s]->forward(upsample(y, x[s].size(2)));
    y = merge_[s]->forward(torch::cat({y, x[s]}, 1));
  }
  y = head->forward(upsample(y, output_size_));
  return out(y);
}

// forward with the BatchNorms folded and the ReLUs in place; the concatenation
// is written channels-last, the layout of the convs.
torch::Tensor DecoderImpl::forward_inference(const Scales &x) {
  auto y = forward_folded(bottom, folds_[0], x[2]);
  for (int s = 1; s >= 0; --s) {
    y = forward_folded(up_[s], folds_[1 + 2 * s], upsample(y, x[s].size(2)));
    y = forward_folded(merge_[s], folds_[2 + 2 * s], detail::cat_channels_last(y, x[s]));
  }
  return tail_inference(y);
}

torch::Tensor DecoderImpl::tail_inference(const torch::Tensor &y) {
  const int64_t per_image = std::max(y.size(1), head_channels_) * output_size_ * output_size_ * y.element_size();
  const int64_t group = std::max<int64_t>(1, kTailGroupBytes / per_image);
  return detail::in_groups(y, group, [&](const torch::Tensor &part) {
    return out(forward_folded(head, folds_[5], upsample(part, output_size_)));
  });
}

void DecoderImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (on) // free the fast path's folded weights until the next inference
    for (auto &block : folds_)
      for (auto &fold : block)
        fold.clear();
}

} // namespace prn
