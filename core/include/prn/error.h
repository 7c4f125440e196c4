// prnanomaly core: the one exception type of the library.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace prn {

// Every error the core reports to its callers: bad input, bad files, bad
// configuration. The message says what was expected and what was received.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
} // namespace detail

} // namespace prn

// PRN_CHECK(cond, "expected ..., got ", x): throws prn::Error with the
// concatenated message when cond is false.
#define PRN_CHECK(cond, ...)                                                   \
  do {                                                                         \
    if (!(cond)) {                                                             \
      throw ::prn::Error(::prn::detail::concat(__VA_ARGS__));                  \
    }                                                                          \
  } while (0)
