#include "args.h"

#include "prn/error.h"

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

int64_t Args::integer() {
  const std::string v = value();
  try {
    size_t used = 0;
    const int64_t n = std::stoll(v, &used);
    if (used == v.size())
      return n;
  } catch (const std::exception &) {
  }
  throw Error(detail::concat("option ", option_, ": expected an integer, got '", v, "'"));
}

int64_t Args::non_negative() {
  const int64_t n = integer();
  PRN_CHECK(n >= 0, "option ", option_, ": expected a non-negative integer, got ", n);
  return n;
}

int64_t Args::at_least(int64_t min) {
  const std::string v = value();
  try {
    size_t used = 0;
    const int64_t n = std::stoll(v, &used);
    if (used == v.size() && n >= min)
      return n;
  } catch (const std::exception &) {
  }
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

} // namespace prn::cli
