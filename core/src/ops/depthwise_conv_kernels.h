// Kernel entry points of the depthwise_conv2d op (internal).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace prn::ops::detail {

// input (B, C, H, W) channels-last float32; weight_taps (k * k, C * M) contiguous
// (weight_taps[t][o] = weight[o][0][t / k][t % k]); bias (C * M) contiguous or undefined;
// residual channels-last (B, C * M, Ho, Wo) or undefined. Returns the output,
// channels-last.
at::Tensor depthwise_conv2d_cpu(const at::Tensor &input, const at::Tensor &weight_taps, const at::Tensor &bias,
                                int64_t multiplier, int64_t k, int64_t stride, int64_t padding,
                                const at::Tensor &residual);

} // namespace prn::ops::detail
