// Running LibTorch work off the thread that will score a stream.
//
// LibTorch's CPU kernels parallelise with OpenMP (GNU libgomp), which gives every
// thread that starts a parallel region a team of worker threads of its own, kept
// as long as that thread lives. Once a process holds more team threads than CPUs,
// libgomp stops spinning between parallel regions and every region pays a futex
// wake-up: measured on 2 CPUs (light model, batch 8), the forward on a streaming
// thread ran 25-35% slower when the application's thread had loaded the model
// than when nothing but the scoring thread had touched LibTorch.
//
// So one-off work done for a stream (loading a bundle, warm-up calls) goes
// through run_on_helper_thread: a thread of its own, joined before returning, whose
// team ends with it. Only the thread that scores keeps one.
#pragma once

#include <functional>

namespace prn::stream {

// Runs `work` on a new thread and waits for it; rethrows what `work` throws.
void run_on_helper_thread(const std::function<void()> &work);

// LibTorch ops issued from the calling thread from now on use `threads` intra-op
// threads (an OpenMP team of that size); other threads keep theirs. What lets
// several scorers in one process share the cores without more team threads than
// CPUs. False when LibTorch does not use OpenMP (then nothing changes); throws
// prn::Error for threads < 1.
bool set_intraop_threads_of_this_thread(int threads);

// For long-lived helper threads whose LibTorch work is small (making training
// batches): LibTorch ops issued from the calling thread from now on run on it
// alone, without an OpenMP team of their own; other threads keep their intra-op
// threads (LibTorch's at::set_num_threads would change them all). Does nothing
// when LibTorch does not use OpenMP.
void run_intraop_on_this_thread_only();

} // namespace prn::stream
