/* prnline: a bounded queue of jobs for one worker thread, with the accounting
 * prnwebhook and prnsave report: every job pushed is, at any instant, done,
 * failed, dropped or pending (queued or in progress). Plain C++ (no GObject).
 *
 * The owner pushes jobs and may wait until the queue is idle (EOS); the worker
 * takes them one by one and finishes each with its outcome. stop() drops what
 * is queued and wakes everyone; the owner then joins its worker thread. */
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "prnwait-end.h"

namespace prn {

struct JobCounts {
  uint64_t done = 0;            /* finished with success */
  uint64_t failed = 0;          /* given up */
  uint64_t dropped = 0;         /* refused (queue full), or abandoned at stop */
  uint64_t pending = 0;         /* queued or in progress */
};

enum class JobOutcome { DONE, FAILED, DROPPED };

template <typename Job>
class JobQueue {
public:
  explicit JobQueue (size_t max_queued) : max_queued_ (max_queued) {}
  JobQueue (const JobQueue &) = delete;
  JobQueue & operator= (const JobQueue &) = delete;

  /* Queues a job; false (counted as dropped) when max_queued wait already or
   * the queue is stopping. */
  bool push (Job job)
  {
    {
      std::lock_guard<std::mutex> lock (mutex_);
      if (stopping_ || queue_.size () >= max_queued_) {
        dropped_++;
        return false;
      }
      queue_.push_back (std::move (job));
    }
    work_.notify_one ();
    return true;
  }

  /* True (and counted as dropped) when push() would refuse a job now: lets the
   * owner skip making a job that would be dropped. */
  bool drop_if_full ()
  {
    std::lock_guard<std::mutex> lock (mutex_);
    if (!stopping_ && queue_.size () < max_queued_)
      return false;
    dropped_++;
    return true;
  }

  /* Worker: the next job, once there is one; it is pending until finish().
   * nullopt once stopping (what was queued is counted as dropped). */
  std::optional<Job> take ()
  {
    std::unique_lock<std::mutex> lock (mutex_);
    work_.wait (lock, [this] { return stopping_ || !queue_.empty (); });
    if (stopping_) {
      dropped_ += queue_.size ();
      queue_.clear ();
      idle_.notify_all ();
      return std::nullopt;
    }
    Job job = std::move (queue_.front ());
    queue_.pop_front ();
    busy_ = true;
    return job;
  }

  /* Worker, before finish (FAILED): true for the first failure after a success
   * (or the start), so that an outage is reported once; finish (DONE) ends it.
   * The job is still pending, so an owner waiting for the queue sees the report
   * before the counts. */
  bool failure_begins_outage ()
  {
    std::lock_guard<std::mutex> lock (mutex_);
    const bool first = !in_outage_;
    in_outage_ = true;
    return first;
  }

  /* Worker: the job take() gave is over. */
  void finish (JobOutcome outcome)
  {
    {
      std::lock_guard<std::mutex> lock (mutex_);
      busy_ = false;
      if (outcome == JobOutcome::DONE) {
        done_++;
        in_outage_ = false;
      } else if (outcome == JobOutcome::FAILED) {
        failed_++;
      } else {
        dropped_++;
      }
    }
    idle_.notify_all ();
  }

  /* Worker: waits `duration` unless stop() comes first; true when stopping. */
  bool sleep_unless_stopping (std::chrono::milliseconds duration)
  {
    std::unique_lock<std::mutex> lock (mutex_);
    return work_.wait_for (lock, duration, [this] { return stopping_.load (); });
  }

  /* Set by stop(); for a worker's long operation to abort itself. */
  const std::atomic<bool> & stopping () const { return stopping_; }

  /* Waits until nothing is queued or in progress, at most `timeout_ms` (< 0: no
   * limit) or until change_wait() ends it or stop(); counts() says what is left. */
  void wait_idle (long timeout_ms)
  {
    std::unique_lock<std::mutex> lock (mutex_);
    auto idle = [this] { return (queue_.empty () && !busy_) || wait_end_.ended () || stopping_; };
    if (timeout_ms < 0)
      idle_.wait (lock, idle);
    else
      idle_.wait_for (lock, std::chrono::milliseconds (timeout_ms), idle);
  }

  /* FLUSH_START and LEAVING_PAUSED end a wait_idle() now and make later ones
   * return at once; FLUSH_STOP undoes FLUSH_START only (see prnwait-end.h). */
  void change_wait (WaitChange change)
  {
    {
      std::lock_guard<std::mutex> lock (mutex_);
      wait_end_.apply (change);
    }
    idle_.notify_all ();
  }

  /* The worker's take() returns nullopt from now on; waits end. */
  void stop ()
  {
    {
      std::lock_guard<std::mutex> lock (mutex_);
      stopping_ = true;
    }
    work_.notify_all ();
    idle_.notify_all ();
  }

  /* All four at one instant. */
  JobCounts counts () const
  {
    std::lock_guard<std::mutex> lock (mutex_);
    return {done_, failed_, dropped_, queue_.size () + (busy_ ? 1u : 0u)};
  }

private:
  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable work_, idle_;
  std::deque<Job> queue_;
  bool busy_ = false, in_outage_ = false;
  WaitEnd wait_end_;
  std::atomic<bool> stopping_ {false};
  uint64_t done_ = 0, failed_ = 0, dropped_ = 0;
};

}  // namespace prn
