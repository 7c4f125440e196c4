// Launch geometry shared by the CUDA kernels of core/src/ops/cuda: one block
// size, and a grid-stride grid capped at 65535 blocks for elementwise kernels.
#pragma once

#include <algorithm>
#include <cstdint>

namespace prn::ops::detail {

inline constexpr int kThreads = 256;

// Blocks for an elementwise kernel over `total` items (its loop strides by the grid).
inline unsigned elementwise_blocks(int64_t total) {
  return static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
}

} // namespace prn::ops::detail
