// Stand-in for Gloo's header (see README.md in gloo_shim/gloo).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace gloo::rendezvous {

// The interface ProcessGroupGloo::GlooStore overrides (inline in its header).
class Store {
public:
  virtual ~Store() = default;
  virtual void set(const std::string &key, const std::vector<char> &data) = 0;
  virtual std::vector<char> get(const std::string &key) = 0;
  virtual void wait(const std::vector<std::string> &keys) = 0;
  virtual void wait(const std::vector<std::string> &keys, const std::chrono::milliseconds &timeout) = 0;
};

} // namespace gloo::rendezvous
