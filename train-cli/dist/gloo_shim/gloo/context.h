// Stand-in for Gloo's header (see README.md in gloo_shim/gloo).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace gloo {

// Named by ProcessGroupGloo::setTimeout (inline); defined in libtorch_cpu.
class Context {
public:
  void setTimeout(std::chrono::milliseconds timeout);
};

} // namespace gloo
