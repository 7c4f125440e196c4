/* prn::JobQueue's EOS wait (shared by prnwebhook and prnsave; prnmqtt's client
 * keeps the same prn::WaitEnd): what ends it, and what a FLUSH_STOP undoes. No
 * worker takes the queued job, so the queue is never idle: a wait that should
 * end must end by itself. */
#include "prnjobqueue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

using prn::JobQueue;
using prn::WaitChange;

namespace {

/* True when wait_idle (no limit) returns within 10 s; otherwise the queue is
 * stopped (which ends any wait) so that the test can report it. */
bool
wait_ends (JobQueue<int> & queue)
{
  auto waiter = std::async (std::launch::async, [&queue] { queue.wait_idle (-1); });
  const bool ended = waiter.wait_for (std::chrono::seconds (10)) == std::future_status::ready;
  if (!ended)
    queue.stop ();
  waiter.get ();
  return ended;
}

/* True when wait_idle (200 ms) took its whole time. */
bool
waits_out (JobQueue<int> & queue)
{
  const auto t0 = std::chrono::steady_clock::now ();
  queue.wait_idle (200);
  return std::chrono::steady_clock::now () - t0 >= std::chrono::milliseconds (200);
}

}  // namespace

TEST (JobQueue, APendingJobKeepsTheWaitUntilItsTimeout)
{
  JobQueue<int> queue (4);
  ASSERT_TRUE (queue.push (1));
  EXPECT_TRUE (waits_out (queue));
  EXPECT_EQ (queue.counts ().pending, 1u);
}

TEST (JobQueue, AFlushEndsTheWaitUntilFlushStop)
{
  JobQueue<int> queue (4);
  ASSERT_TRUE (queue.push (1));
  queue.change_wait (WaitChange::FLUSH_START);
  EXPECT_TRUE (wait_ends (queue));
  queue.change_wait (WaitChange::FLUSH_STOP);
  EXPECT_TRUE (waits_out (queue)) << "FLUSH_STOP did not make EOS wait again";
}

TEST (JobQueue, LeavingPausedEndsAWaitInProgress)
{
  JobQueue<int> queue (4);
  ASSERT_TRUE (queue.push (1));
  auto waiter = std::async (std::launch::async, [&queue] { queue.wait_idle (-1); });
  EXPECT_EQ (waiter.wait_for (std::chrono::milliseconds (100)), std::future_status::timeout);
  queue.change_wait (WaitChange::LEAVING_PAUSED);
  EXPECT_EQ (waiter.wait_for (std::chrono::seconds (10)), std::future_status::ready);
  queue.stop ();
  waiter.get ();
}

TEST (JobQueue, AFlushStopDoesNotUndoLeavingPaused)
{
  /* PAUSED to READY ends the wait so that the pads can be deactivated; a flush
   * racing it must not make the next EOS wait its whole timeout again. */
  JobQueue<int> queue (4);
  ASSERT_TRUE (queue.push (1));
  queue.change_wait (WaitChange::FLUSH_START);
  queue.change_wait (WaitChange::LEAVING_PAUSED);
  queue.change_wait (WaitChange::FLUSH_STOP);
  EXPECT_TRUE (wait_ends (queue)) << "FLUSH_STOP undid PAUSED to READY";
}

TEST (JobQueue, StopEndsEveryWait)
{
  JobQueue<int> queue (4);
  ASSERT_TRUE (queue.push (1));
  queue.stop ();
  queue.change_wait (WaitChange::FLUSH_STOP);
  EXPECT_TRUE (wait_ends (queue));
  EXPECT_EQ (queue.take (), std::nullopt);
  EXPECT_EQ (queue.counts ().dropped, 1u) << "the job queued at stop is counted as dropped";
}
