// prnanomaly element: the optional inference thread (max-inflight > 0). The
// streaming thread hands buffers over and returns at once while fewer than
// max-inflight wait; the worker scores them and pushes finished buffers
// downstream itself, so a buffer leaves as soon as its rows are final, even when
// the camera sends nothing more (triggered cameras).
#pragma once

#include "prnanomaly-props.h"

#include <gst/gst.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace prn::gst {

// A camera buffer with the settings it came with, or a serialized event that
// must keep its place among the buffers (exactly one of the two is set).
struct WorkerJob {
  GstBuffer *buffer = nullptr;
  BufferSettings settings;
  GstEvent *event = nullptr;
};

class InferenceWorker {
public:
  // `process` runs on the worker thread for each job, in order, and takes
  // ownership of its buffer or event; its flow return is kept when it is not
  // GST_FLOW_OK.
  // `keep_sticky` gets the sticky events a flush drops from the queue (tags).
  InferenceWorker(size_t max_inflight, std::function<GstFlowReturn(WorkerJob &)> process,
                  std::function<void(GstEvent *)> keep_sticky = {});
  ~InferenceWorker(); // drops what waits, joins the thread
  InferenceWorker(const InferenceWorker &) = delete;
  InferenceWorker &operator=(const InferenceWorker &) = delete;

  // Queues a job (ownership passes), blocking while max_inflight jobs wait.
  // Returns the first non-OK flow a past buffer gave (the job is then
  // dropped), or GST_FLOW_FLUSHING while flushing.
  GstFlowReturn submit(WorkerJob job);
  // Blocks until every queued buffer has been processed (or dropped by a flush).
  void wait_idle();
  // Flushing: waiting buffers are dropped, submit() returns FLUSHING and waiters
  // wake up. Leaving it clears the kept flow.
  void set_flushing(bool flushing);
  GstFlowReturn flow() const;

private:
  void run();
  void drop(WorkerJob &job);

  const size_t max_inflight_;
  std::function<GstFlowReturn(WorkerJob &)> process_;
  std::function<void(GstEvent *)> keep_sticky_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<WorkerJob> queue_;
  bool busy_ = false, flushing_ = false, quit_ = false;
  GstFlowReturn flow_ = GST_FLOW_OK;
  std::thread thread_;
};

} // namespace prn::gst
