// Integers as text, between separators: join_integers({64, 128, 256}, "-") -> "64-128-256".
// One helper for the config file's lists (","), the trainer's CSV-safe names ("-")
// and the element's log lines (" or ").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prn {

inline std::string join_integers(const std::vector<int64_t> &values, const std::string &separator) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      out += separator;
    out += std::to_string(values[i]);
  }
  return out;
}

} // namespace prn
