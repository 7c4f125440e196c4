#include "prn/stream/helper_thread.h"

#include <exception>
#include <thread>

namespace prn::stream {

void run_on_helper_thread(const std::function<void()> &work) {
  std::exception_ptr error;
  std::thread([&] {
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error)
    std::rethrow_exception(error);
}

} // namespace prn::stream
