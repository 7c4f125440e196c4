#include "prn/stream/helper_thread.h"

#include "prn/error.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>

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

bool set_intraop_threads_of_this_thread(int threads) {
  PRN_CHECK(threads >= 1, "intra-op threads: expected at least 1, got ", threads);
  // LibTorch initialises each thread's OpenMP thread count on its first parallel
  // op (to the process-wide count); let it do so now, then set this thread's own
  // (OpenMP's nthreads-var is per thread): ATen's loops and oneDNN's kernels
  // issued from here use that many. Looked up at run time: the OpenMP runtime is
  // the one LibTorch loaded, whichever LibTorch the build uses.
  (void)at::get_num_threads();
  using SetNumThreads = void (*)(int);
  auto set = reinterpret_cast<SetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set)
    set(threads);
  return set != nullptr;
}

void run_intraop_on_this_thread_only() { (void)set_intraop_threads_of_this_thread(1); }

} // namespace prn::stream
