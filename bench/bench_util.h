// Small helpers the benchmark programs share.
#pragma once

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace prn::bench {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// "a,b,,c" -> {"a", "b", "c"}: a comma-separated option value, empty items skipped.
inline std::vector<std::string> split_list(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

} // namespace prn::bench
