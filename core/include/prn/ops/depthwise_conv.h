// prnanomaly op: a depthwise convolution with a channel multiplier, plus an
// optional tensor added to its output (the fusion's finer-to-coarser exchange).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace prn::ops {

// input: (B, C, H, W) floating point; weight: (C * M, 1, k, k) with M >= 1 (output
// channel o reads input channel o / M, as at::conv2d with groups = C); bias:
// (C * M) or undefined; residual: undefined, or (B, C * M, Ho, Wo) added to the
// result, Ho = (H + 2 * padding - k) / stride + 1 (likewise Wo). All on one
// device and of the input's dtype. Returns conv2d(input, weight, bias, stride,
// padding, groups = C) + residual, channels-last. float32 on the CPU without
// autograd (inference): a kernel of its own, the same bits for any thread count
// (oneDNN runs these grouped convolutions at 5-15 GFLOP/s); otherwise ATen's
// conv2d and add, so gradients flow.
at::Tensor depthwise_conv2d(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias,
                            int64_t stride, int64_t padding, const at::Tensor &residual = {});

} // namespace prn::ops
