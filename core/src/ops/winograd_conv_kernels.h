// Kernel entry point of the winograd_conv3x3 op (internal).
#pragma once

#include <ATen/core/Tensor.h>

namespace prn::ops::detail {

// input (B, C, H, W) channels-last float32; transformed (36, C, K) contiguous
// float32; bias (K) contiguous float32. C and K multiples of 16. Returns the
// output (B, K, H, W), channels-last.
at::Tensor winograd_conv3x3_cpu(const at::Tensor &input, const at::Tensor &transformed, const at::Tensor &bias);

} // namespace prn::ops::detail
