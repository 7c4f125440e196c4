#include "prnanomaly-worker.h"

namespace prn::gst {

InferenceWorker::InferenceWorker(size_t max_inflight, std::function<GstFlowReturn(GstBuffer *)> process)
    : max_inflight_(max_inflight < 1 ? 1 : max_inflight), process_(std::move(process)) {
  thread_ = std::thread([this] { run(); });
}

InferenceWorker::~InferenceWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
    for (GstBuffer *b : queue_)
      gst_buffer_unref(b);
    queue_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

GstFlowReturn InferenceWorker::submit(GstBuffer *buffer) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return flushing_ || flow_ != GST_FLOW_OK || queue_.size() < max_inflight_; });
  if (flushing_ || flow_ != GST_FLOW_OK) {
    gst_buffer_unref(buffer);
    return flushing_ ? GST_FLOW_FLUSHING : flow_;
  }
  queue_.push_back(buffer);
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
      for (GstBuffer *b : queue_)
        gst_buffer_unref(b);
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
    GstBuffer *b = queue_.front();
    queue_.pop_front();
    busy_ = true;
    changed_.notify_all(); // a slot is free
    lock.unlock();
    const GstFlowReturn ret = process_(b);
    lock.lock();
    busy_ = false;
    if (ret != GST_FLOW_OK && flow_ == GST_FLOW_OK && !flushing_)
      flow_ = ret;
    changed_.notify_all();
  }
}

} // namespace prn::gst
