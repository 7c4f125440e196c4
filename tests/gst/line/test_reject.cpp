/* prnreject with GstHarness and its GstTestClock: exact fire times from row
 * offsets, merging, late fires, flush and EOS, the trigger and the line period
 * (its outputs are in test_reject_outputs.cpp). */
#include "reject_fixture.h"

#include <gtest/gtest.h>

#include <thread>

using namespace prntest;

namespace {

constexpr GstClockTime MS = GST_MSECOND;
constexpr GstClockTime ROW = REJECT_ROW;    /* 10 ms / 64 rows */

}  // namespace

TEST (Reject, FireTimeFromRowOffsetAndDistanceRows)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (1000), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  /* Rows [64, 128) passed the camera from 10 ms; the defect's first row 100. */
  push_ok (h, web_buffer (10 * MS, 64, { { 100, 4 } }));
  EXPECT_EQ (pop_fire (b.bus), nullptr) << "fired before its time";
  ASSERT_EQ (pending_ids (h), 1u);

  const GstClockTime t_cam = 10 * MS + 36 * ROW;
  const GstClockTime fire = t_cam + 1000 * ROW;
  EXPECT_EQ (fire, 171875000u);
  Fire f = crank_fire (h, b.bus, fire);
  EXPECT_EQ (f.fire_time, fire);
  EXPECT_EQ (f.due_time, fire);
  EXPECT_EQ (f.row_offset, 100u);
  EXPECT_EQ (f.rows, 4u);
  EXPECT_EQ (f.x, 2);
  EXPECT_EQ (f.width, 6);
  EXPECT_DOUBLE_EQ (f.pulse_ms, 50.0);
  EXPECT_FALSE (f.late);
  EXPECT_EQ (f.count, 1u);

  /* The release is on the clock too, and posts nothing. */
  EXPECT_EQ (next_clock_time (h), fire + 50 * MS);
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));
  EXPECT_EQ (pending_ids (h), 0u);
  EXPECT_EQ (pop_fire (b.bus), nullptr);
  gst_harness_teardown (h);
}

TEST (Reject, DistanceMsLeadAndLongDefect)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (1000), "distance-ms", 250.5,
            "lead-ms", 5.0, NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  /* A shifted segment: running time = pts - 1 s + 2 s. */
  ASSERT_TRUE (push_time_segment (h, GST_SECOND, 2 * GST_SECOND));

  /* A defect of 640 rows (100 ms) from row 100 of a 1024-row buffer. */
  push_ok (h, web_buffer (GST_SECOND + 10 * MS, 64, { { 100, 640 } }, 1024));
  const GstClockTime due = 2 * GST_SECOND + 10 * MS + 36 * ROW + 250500 * GST_USECOND;
  Fire f = crank_fire (h, b.bus, due - 5 * MS);
  EXPECT_EQ (f.due_time, due - 5 * MS);
  EXPECT_DOUBLE_EQ (f.pulse_ms, 100.0);   /* cover-defect: 640 rows */
  EXPECT_EQ (next_clock_time (h), due - 5 * MS + 100 * MS);
  gst_harness_teardown (h);
}

TEST (Reject, OneDefectInTwoBuffersFiresOnce)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (1000), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (0, 0, { { 50, 14, 2, 4 } }));
  push_ok (h, web_buffer (10 * MS, 64, { { 64, 10, 4, 6 } }));
  ASSERT_EQ (pending_ids (h), 1u);

  Fire f = crank_fire (h, b.bus, 1050 * ROW);
  EXPECT_EQ (f.count, 2u);
  EXPECT_EQ (f.row_offset, 50u);
  EXPECT_EQ (f.rows, 24u);
  EXPECT_EQ (f.x, 2);
  EXPECT_EQ (f.width, 8);
  EXPECT_DOUBLE_EQ (f.pulse_ms, (14 * ROW + 50 * MS) / 1e6);
  EXPECT_EQ (next_clock_time (h), 1064 * ROW + 50 * MS);
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));
  EXPECT_EQ (pop_fire (b.bus), nullptr) << "fired twice";
  gst_harness_teardown (h);
}

TEST (Reject, MinGapMergesCloseDefectsOnly)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "pulse-ms", 10.0, "cover-defect", FALSE, NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  /* Pulses [0, 10), [20, 30) (10 ms apart: merged) and [50, 60) (20 ms after
   * the merged one: min-gap-ms=20 keeps it apart), in one 512-row buffer. */
  push_ok (h, web_buffer (100 * MS, 0, { { 0, 1 }, { 128, 1 }, { 320, 1 } }, 512));
  Fire f1 = crank_fire (h, b.bus, 100 * MS);
  EXPECT_EQ (f1.count, 2u);
  EXPECT_DOUBLE_EQ (f1.pulse_ms, 30.0);
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));   /* release at 130 ms */
  Fire f2 = crank_fire (h, b.bus, 150 * MS);
  EXPECT_EQ (f2.count, 1u);
  EXPECT_EQ (f2.row_offset, 320u);
  EXPECT_DOUBLE_EQ (f2.pulse_ms, 10.0);
  gst_harness_teardown (h);
}

TEST (Reject, DetectionAfterItsTimeFiresAtOnceFlaggedLate)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (64), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  /* Processing took until 100 ms; the defect reached the ejector at 20 ms. */
  gst_harness_set_time (h, 100 * MS);
  push_ok (h, web_buffer (10 * MS, 64, { { 64, 4 } }));
  GstStructure *s = pop_fire (b.bus);
  ASSERT_NE (s, nullptr) << "a late pulse fires at once";
  Fire f = parse_fire (s);
  EXPECT_TRUE (f.late);
  EXPECT_EQ (f.fire_time, 100 * MS);
  EXPECT_EQ (f.due_time, 20 * MS);
  EXPECT_DOUBLE_EQ (f.pulse_ms, 50.0);
  EXPECT_EQ (next_clock_time (h), 150 * MS);   /* keeps its length */
  gst_harness_teardown (h);
}

TEST (Reject, FlushCancelsPendingFires)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (1000), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (0, 0, { { 10, 4 } }));
  ASSERT_EQ (pending_ids (h), 1u);
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_flush_start ()));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  EXPECT_EQ (pending_ids (h), 0u);
  gst_harness_set_time (h, 2 * GST_SECOND);
  EXPECT_EQ (pop_fire (b.bus), nullptr);

  /* After the flush, a new segment and detections fire as usual. */
  ASSERT_TRUE (push_time_segment (h));
  push_ok (h, web_buffer (3 * GST_SECOND, 0, { { 0, 4 } }));
  Fire f = crank_fire (h, b.bus, 3 * GST_SECOND + 1000 * ROW);
  EXPECT_FALSE (f.late);
  gst_harness_teardown (h);
}

TEST (Reject, EosWaitsForThePlannedPulses)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (640), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (0, 0, { { 0, 4 } }));
  std::thread eos ([h] { gst_harness_push_event (h, gst_event_new_eos ()); });
  g_usleep (50 * 1000);
  for (GstEvent *ev; (ev = gst_harness_try_pull_event (h)) != nullptr; gst_event_unref (ev))
    EXPECT_NE (GST_EVENT_TYPE (ev), GST_EVENT_EOS) << "EOS passed before the pulse";

  crank_fire (h, b.bus, 100 * MS);
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));   /* release */
  eos.join ();
  bool got_eos = false;
  for (GstEvent *ev; (ev = gst_harness_try_pull_event (h)) != nullptr; gst_event_unref (ev))
    got_eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
  EXPECT_TRUE (got_eos);
  gst_harness_teardown (h);
}

TEST (Reject, EosPassesAtOnceWithoutDrain)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (640), "drain-on-eos", FALSE,
            NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (0, 0, { { 0, 4 } }));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (pending_ids (h), 1u);
  crank_fire (h, b.bus, 100 * MS);   /* still fires while playing */
  gst_harness_teardown (h);
}

TEST (Reject, AnomalousBuffersTrigger)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "trigger", "anomalous-buffers");
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (0, 0, { { 10, 4 } }, 64, GST_CLOCK_TIME_NONE, false));
  EXPECT_EQ (pending_ids (h), 0u) << "regions of a normal buffer fire nothing";
  push_ok (h, web_buffer (10 * MS, 64, {}, 64, GST_CLOCK_TIME_NONE, true));
  Fire f = crank_fire (h, b.bus, 10 * MS);
  EXPECT_EQ (f.row_offset, 64u);
  EXPECT_EQ (f.rows, 64u);
  EXPECT_EQ (f.width, 16);
  gst_harness_teardown (h);
}

TEST (Reject, LinePeriodFromPtsWithoutDurations)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (100), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  /* framerate 0/1, no durations: 64 rows in 8 ms between the first two PTS. */
  GstBuffer *first = web_buffer (0, 0, { { 32, 4 } });
  GST_BUFFER_DURATION (first) = GST_CLOCK_TIME_NONE;
  push_ok (h, first);
  EXPECT_EQ (pending_ids (h), 0u) << "the first buffer waits for a line period";
  GstBuffer *second = web_buffer (8 * MS, 64, {});
  GST_BUFFER_DURATION (second) = GST_CLOCK_TIME_NONE;
  push_ok (h, second);
  crank_fire (h, b.bus, 132 * 125000);
  gst_harness_teardown (h);
}
