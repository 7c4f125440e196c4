// Small helpers the benchmark programs share.
#pragma once

#include <chrono>
#include <cstdint>
#include <sstream>
#include <stdexcept>
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

// The integer `text` spells, at least `min`; otherwise throws std::runtime_error
// naming the option ("option --rows: expected an integer >= 1, got 'x'").
inline int64_t parse_int(const std::string &option, const std::string &text, int64_t min) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < min)
    throw std::runtime_error("option " + option + ": expected an integer >= " + std::to_string(min) + ", got '" +
                             text + "'");
  return v;
}

} // namespace prn::bench
