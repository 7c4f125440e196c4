// prnanomaly core internals: the inference fast path's channels-last
// concatenation (shared by the model's fused features and the decoder's skips).
#pragma once

#include <torch/torch.h>

namespace prn::detail {

// cat({a, b}, 1) written into a channels-last buffer whatever the layouts of a
// and b, so the conv that reads it converts nothing. a, b: (B, C_a|C_b, H, W).
inline torch::Tensor cat_channels_last(const torch::Tensor &a, const torch::Tensor &b) {
  auto c = torch::empty({a.size(0), a.size(1) + b.size(1), a.size(2), a.size(3)},
                        a.options().memory_format(torch::MemoryFormat::ChannelsLast));
  c.narrow(1, 0, a.size(1)).copy_(a);
  c.narrow(1, a.size(1), b.size(1)).copy_(b);
  return c;
}

} // namespace prn::detail
