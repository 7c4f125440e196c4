// The CLIs' main(): runs the tool and turns errors into a message and an exit
// status (2 for bad input, a prn::Error; 3 for anything unexpected); stdout is
// line-buffered.
#pragma once

#include "prn/error.h"

#include <cstdio>
#include <exception>

namespace prn::cli {

template <typename F> int run_main(const char *tool, F &&body) {
  // Line-buffered stdout: in a log file that takes stderr too (the progress bar,
  // errors), each line lands when printed, in order, not at exit.
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
  try {
    return body();
  } catch (const prn::Error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 2;
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: unexpected error: %s\n", tool, e.what());
    return 3;
  }
}

} // namespace prn::cli
