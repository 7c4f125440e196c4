#include "prnanomaly-worker.h"

namespace prn::gst {

InferenceWorker::InferenceWorker(size_t max_inflight, std::function<GstFlowReturn(WorkerJob &)> process,
                                 std::function<void(GstEvent *)> keep_sticky)
    : max_inflight_(max_inflight < 1 ? 1 : max_inflight), process_(std::move(process)),
      keep_sticky_(std::move(keep_sticky)) {
  thread_ = std::thread([this] { run(); });
}

InferenceWorker::~InferenceWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
    for (WorkerJob &j : queue_)
      drop(j);
    queue_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

void InferenceWorker::drop(WorkerJob &job) {
  if (job.buffer)
    gst_buffer_unref(job.buffer);
  if (job.event) {
    if (keep_sticky_ && (gst_event_type_get_flags(GST_EVENT_TYPE(job.event)) & GST_EVENT_TYPE_STICKY))
      keep_sticky_(job.event);
    gst_event_unref(job.event);
  }
  job.buffer = nullptr;
  job.event = nullptr;
}

GstFlowReturn InferenceWorker::submit(WorkerJob job) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return flushing_ || flow_ != GST_FLOW_OK || queue_.size() < max_inflight_; });
  if (flushing_ || flow_ != GST_FLOW_OK) {
    drop(job);
    return flushing_ ? GST_FLOW_FLUSHING : flow_;
  }
  queue_.push_back(job);
  changed_.notify_all();
  return GST_FLOW_OK;
}

void InferenceWorker::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return quit_ || (queue_.empty() && !busy_); });
}

void InferenceWorker::set_flushing(bool flushing) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flushing_ = flushing;
    if (flushing) {
      for (WorkerJob &j : queue_)
        drop(j);
      queue_.clear();
    } else {
      flow_ = GST_FLOW_OK;
    }
  }
  changed_.notify_all();
}

GstFlowReturn InferenceWorker::flow() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return flushing_ ? GST_FLOW_FLUSHING : flow_;
}

void InferenceWorker::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return quit_ || !queue_.empty(); });
    if (quit_)
      return;
    WorkerJob job = queue_.front();
    queue_.pop_front();
    busy_ = true;
    changed_.notify_all(); // a slot is free
    lock.unlock();
    const GstFlowReturn ret = process_(job);
    lock.lock();
    busy_ = false;
    if (ret != GST_FLOW_OK && flow_ == GST_FLOW_OK && !flushing_)
      flow_ = ret;
    changed_.notify_all();
  }
}

} // namespace prn::gst
