#include "args.h"

#include "prn/error.h"

#include <optional>
#include <sstream>

namespace prn::cli {

bool Args::next() {
  if (i_ + 1 >= argc_)
    return false;
  option_ = argv_[++i_];
  return true;
}

std::string Args::value() {
  PRN_CHECK(i_ + 1 < argc_, "option ", option_, " needs a value");
  return argv_[++i_];
}

namespace {

// The whole of `text` as an integer, or nothing.
std::optional<int64_t> whole_integer(const std::string &text) {
  try {
    size_t used = 0;
    const int64_t n = std::stoll(text, &used);
    if (used == text.size())
      return n;
  } catch (const std::exception &) {
  }
  return std::nullopt;
}

} // namespace

int64_t Args::integer() {
  const std::string v = value();
  if (auto n = whole_integer(v))
    return *n;
  throw Error(detail::concat("option ", option_, ": expected an integer, got '", v, "'"));
}

int64_t Args::non_negative() {
  const int64_t n = integer();
  PRN_CHECK(n >= 0, "option ", option_, ": expected a non-negative integer, got ", n);
  return n;
}

int64_t Args::at_least(int64_t min) {
  const std::string v = value();
  if (auto n = whole_integer(v); n && *n >= min)
    return *n;
  throw Error(detail::concat("option ", option_, ": expected an integer >= ", min, ", got '", v, "'"));
}

double Args::real_in(double lo, double hi, bool open_lo) {
  const std::string v = value();
  try {
    size_t used = 0;
    const double x = std::stod(v, &used);
    if (used == v.size() && (open_lo ? x > lo : x >= lo) && x <= hi)
      return x;
  } catch (const std::exception &) {
  }
  throw Error(detail::concat("option ", option_, ": expected a number in ", open_lo ? "(" : "[", lo, ", ", hi, "], got '",
                             v, "'"));
}

double Args::real() {
  const std::string v = value();
  try {
    size_t used = 0;
    const double n = std::stod(v, &used);
    if (used == v.size())
      return n;
  } catch (const std::exception &) {
  }
  throw Error(detail::concat("option ", option_, ": expected a number, got '", v, "'"));
}

std::vector<std::string> Args::list() {
  std::vector<std::string> out;
  std::stringstream ss(value());
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

std::vector<int64_t> Args::integer_list() {
  std::vector<int64_t> out;
  for (const auto &item : list()) {
    auto n = whole_integer(item);
    PRN_CHECK(n.has_value(), "option ", option_, ": expected comma-separated integers, got '", item, "'");
    out.push_back(*n);
  }
  return out;
}

} // namespace prn::cli
