#include "prn/decoder.h"

#include "prn/batchnorm.h"
#include "prn/error.h"

namespace prn {
namespace {

namespace nn = torch::nn;

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

} // namespace

DecoderImpl::DecoderImpl(std::array<int64_t, 3> channels, int64_t head_channels, int64_t output_size)
    : channels_(channels), output_size_(output_size) {
  std::array<int64_t, 3> d{channels[0] / 2, channels[1] / 2, channels[2] / 2};
  bottom = register_module("bottom", conv_bn_relu(channels[2], d[2]));
  for (int s = 1; s >= 0; --s) {
    up_[s] = register_module("up" + std::to_string(s), conv_bn_relu(d[s + 1], d[s]));
    merge_[s] = register_module("merge" + std::to_string(s), double_conv(d[s] + channels[s], d[s]));
  }
  head = register_module("head", conv_bn_relu(d[0], head_channels));
  out = register_module("out", nn::Conv2d(nn::Conv2dOptions(head_channels, 1, 1)));
}

torch::Tensor DecoderImpl::forward(const Scales &x) {
  for (int s = 0; s < 3; ++s)
    PRN_CHECK(x[s].dim() == 4 && x[s].size(1) == channels_[s], "decoder: expected ", channels_[s],
              " channels at scale ", s, ", got shape ", x[s].sizes());
  auto y = bottom->forward(x[2]);
  for (int s = 1; s >= 0; --s) {
    y = up_[s]->forward(upsample(y, x[s].size(2)));
    y = merge_[s]->forward(torch::cat({y, x[s]}, 1));
  }
  y = head->forward(upsample(y, output_size_));
  return out(y);
}

} // namespace prn
