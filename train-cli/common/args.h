// Command-line parsing shared by the CLIs: walks argv option by option and
// reads typed values with errors that name the option and the text received.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prn::cli {

class Args {
public:
  Args(int argc, char **argv) : argc_(argc), argv_(argv) {}

  // Moves to the next argument; false when there is none.
  bool next();
  // The current argument (an option such as "--steps").
  const std::string &option() const { return option_; }
  // The current option's value, consumed from argv; throws prn::Error
  // "option X needs a value" when there is none.
  std::string value();
  // The value as an integer / a non-negative integer / a number / a
  // comma-separated list; throws prn::Error naming the option and the text.
  int64_t integer();
  int64_t non_negative();
  int64_t at_least(int64_t min);
  // A number in [lo, hi] (lo excluded when open_lo).
  double real_in(double lo, double hi, bool open_lo = false);
  double real();
  std::vector<std::string> list();
  // A comma-separated list of integers ("64,128,256").
  std::vector<int64_t> integer_list();

private:
  int argc_;
  char **argv_;
  int i_ = 0;
  std::string option_;
};

} // namespace prn::cli
