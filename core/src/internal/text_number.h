// Internal: numbers in the text fields of model files (config, bundle metadata).
#pragma once

#include <optional>
#include <sstream>
#include <string>

namespace prn::detail {

// The whole text as a number, or nothing (no partial parses such as "1.5x").
inline std::optional<double> parse_number(const std::string &text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size())
      return v;
  } catch (const std::exception &) {
  }
  return std::nullopt;
}

// A double with 17 significant digits: parse_number gives it back exactly.
inline std::string format_number(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

} // namespace prn::detail
