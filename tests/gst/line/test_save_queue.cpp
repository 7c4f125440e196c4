/* prnsave's queue with GstHarness: a full queue drops frames without holding
 * the stream up, and a flush ends the EOS wait; the worker is held at will by a
 * bus sync handler on its "prnsave-file" message. */
#include "reject_fixture.h"
#include "save_fixture.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

using namespace prntest;

namespace {

/* Holds the worker of a prnsave when it posts "prnsave-file" (a bus sync handler
 * runs in the posting thread) until release(). */
struct WorkerGate {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, released = false;

  static GstBusSyncReply handler (GstBus *, GstMessage *m, gpointer data)
  {
    auto *g = static_cast<WorkerGate *> (data);
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT
        && gst_structure_has_name (gst_message_get_structure (m), "prnsave-file")) {
      std::unique_lock<std::mutex> lock (g->mutex);
      g->entered = true;
      g->cv.notify_all ();
      g->cv.wait (lock, [g] { return g->released; });
    }
    return GST_BUS_PASS;
  }
  bool wait_entered ()
  {
    std::unique_lock<std::mutex> lock (mutex);
    return cv.wait_for (lock, std::chrono::seconds (30), [this] { return entered; });
  }
  void release ()
  {
    std::lock_guard<std::mutex> lock (mutex);
    released = true;
    cv.notify_all ();
  }
};

}  // namespace

TEST (Save, NeverHoldsTheStreamUpAndBoundsItsQueue)
{
  /* max-queued 1: the worker is held after its first set; of 19 more frames one
   * waits and 18 are dropped (warned about once), and every buffer passes. */
  TmpDir tmp;
  BusHolder bus;
  WorkerGate gate;
  gst_bus_set_sync_handler (bus.bus, WorkerGate::handler, &gate, nullptr);
  GstHarness *h = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", tmp.file ("d").c_str (), "max-queued", 1u, "heatmap", FALSE, NULL);
      }, bus.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, saved_frame (true));
  ASSERT_TRUE (gate.wait_entered ()) << "the first set was not written";
  for (int i = 0; i < 19; i++)
    push_ok (h, saved_frame (true));
  EXPECT_EQ (count (h, "dropped"), 18u);
  gate.release ();
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (count (h, "saved"), 2u);
  EXPECT_EQ (count (h, "dropped"), 18u);
  gst_bus_set_sync_handler (bus.bus, nullptr, nullptr, nullptr);
  EXPECT_EQ (count_warnings (bus.bus), 1) << "one warning for the drops";
  EXPECT_EQ (with_suffix (list_folder (tmp.file ("d")), ".json").size (), 2u);
  gst_harness_teardown (h);
}

TEST (Save, AFlushEndsTheEosWait)
{
  /* The worker is held, so the queue never empties: EOS waits (flush-timeout
   * 10 min) until a flush ends the wait. The same wait ends at PAUSED to READY
   * (prn::change_eos_wait, shared with prnmqtt and prnwebhook). */
  TmpDir tmp;
  BusHolder bus;
  WorkerGate gate;
  gst_bus_set_sync_handler (bus.bus, WorkerGate::handler, &gate, nullptr);
  GstHarness *h = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", tmp.file ("d").c_str (), "flush-timeout", 600000u, NULL);
      }, bus.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, saved_frame (true));
  ASSERT_TRUE (gate.wait_entered ());
  push_ok (h, saved_frame (true));
  std::atomic<bool> eos_done {false};
  std::thread eos ([&] {
    gst_harness_push_event (h, gst_event_new_eos ());
    eos_done = true;
  });
  std::this_thread::sleep_for (std::chrono::milliseconds (300));
  EXPECT_FALSE (eos_done) << "EOS did not wait for the queue";
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_flush_start ()));
  for (int i = 0; i < 250 && !eos_done; i++)
    std::this_thread::sleep_for (std::chrono::milliseconds (20));
  EXPECT_TRUE (eos_done) << "the flush did not end the EOS wait";
  gate.release ();
  eos.join ();
  gst_bus_set_sync_handler (bus.bus, nullptr, nullptr, nullptr);
  /* EOS reported what it left: a warning, and the counts with frames waiting. */
  GstMessage *w = gst_bus_pop_filtered (bus.bus, GST_MESSAGE_WARNING);
  ASSERT_NE (w, nullptr) << "no warning about the frames left at EOS";
  GError *err = nullptr;
  gst_message_parse_warning (w, &err, nullptr);
  EXPECT_NE (std::string (err->message).find ("frames were not saved within 600000 ms"), std::string::npos)
      << err->message;
  g_error_free (err);
  gst_message_unref (w);
  bool reported = false;
  for (GstStructure *st : element_messages (bus.bus)) {
    guint64 waiting = 0;
    if (gst_structure_has_name (st, "prnsave") && gst_structure_get_uint64 (st, "waiting", &waiting))
      reported = waiting >= 1;
    gst_structure_free (st);
  }
  EXPECT_TRUE (reported) << "no prnsave message with the frames waiting";
  gst_harness_teardown (h);
}
