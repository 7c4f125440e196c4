/* prnreject's pure logic (prnreject-plan.h, prnreject-output.h): line periods,
 * row -> time mapping, pulse merging, the fire JSON. No element, no clock. */
#include "test_helpers.h"

#include <gtest/gtest.h>

#include "prnreject-output.h"
#include "prnreject-plan.h"

using prn::LinePeriod;
using prn::PulsePlanner;
using prn::PulseWindow;
using prn::RejectConfig;
using prn::RejectRequest;

namespace {

constexpr GstClockTime MS = GST_MSECOND;
const LinePeriod TEN_MS_64 { 10 * MS, 64 };     /* 156250 ns per row */

RejectRequest
request (GstClockTime buffer_rt, guint64 row_offset, guint64 web_row, guint64 rows,
    gint x = 0, gint width = 8)
{
  RejectRequest r;
  r.buffer_rt = buffer_rt;
  r.row_offset = row_offset;
  r.web_row = web_row;
  r.rows = rows;
  r.x = x;
  r.width = width;
  return r;
}

PulseWindow
window (GstClockTime start, GstClockTime end)
{
  PulseWindow w;
  w.due = start;
  w.start = start;
  w.end = end;
  return w;
}

}  // namespace

TEST (RejectPlan, RowsToNanosecondsIsExact)
{
  EXPECT_EQ (prn::rows_to_ns (1, TEN_MS_64), 156250);
  EXPECT_EQ (prn::rows_to_ns (1036, TEN_MS_64), 161875000);
  EXPECT_EQ (prn::rows_to_ns (-3, TEN_MS_64), -468750);
  /* 1/30 s frames of 100 rows: 333333.33 ns per row, rounded once. */
  const LinePeriod caps { GST_SECOND, 30 * 100 };
  EXPECT_EQ (prn::rows_to_ns (3000, caps), static_cast<gint64> (GST_SECOND));
  EXPECT_EQ (prn::rows_to_ns (1, caps), 333333);
  EXPECT_EQ (prn::rows_to_ns (-1, caps), -333334);
  EXPECT_EQ (prn::rows_to_ns (5, LinePeriod ()), 0);
}

TEST (RejectPlan, PeriodFromDurationCapsOrPts)
{
  prn::PeriodEstimator est;
  const LinePeriod caps { GST_SECOND, 25 * 64 };
  LinePeriod p = est.observe (0, 10 * MS, 64, caps);
  EXPECT_EQ (p.num, 10 * MS);
  EXPECT_EQ (p.den, 64u);
  p = est.observe (10 * MS, GST_CLOCK_TIME_NONE, 64, caps);
  EXPECT_EQ (p.num, GST_SECOND);
  EXPECT_EQ (p.den, 25u * 64);

  /* framerate 0/1, no durations: the first buffer has no period, the second
   * gets (pts2 - pts1) / rows1. */
  est.reset ();
  EXPECT_FALSE (est.observe (100 * MS, GST_CLOCK_TIME_NONE, 32, LinePeriod ()).valid ());
  p = est.observe (108 * MS, GST_CLOCK_TIME_NONE, 64, LinePeriod ());
  ASSERT_TRUE (p.valid ());
  EXPECT_EQ (prn::rows_to_ns (32, p), static_cast<gint64> (8 * MS));
  p = est.observe (128 * MS, GST_CLOCK_TIME_NONE, 64, LinePeriod ());
  EXPECT_EQ (prn::rows_to_ns (64, p), static_cast<gint64> (20 * MS));
}

TEST (RejectPlan, WindowFromRowsAndDistance)
{
  RejectConfig cfg;
  cfg.distance_rows = 1000;
  /* Buffer of rows [64, 128) at 10 ms; defect from web row 100, 4 rows. */
  PulseWindow w = prn::plan_window (request (10 * MS, 64, 100, 4), TEN_MS_64, cfg);
  EXPECT_EQ (w.due, 10 * MS + 1036 * 156250);
  EXPECT_EQ (w.start, w.due);
  EXPECT_EQ (w.end, w.start + 50 * MS);

  /* distance-ms wins over rows; lead moves the start; a long defect (640 rows =
   * 100 ms) makes the pulse longer with cover-defect. */
  cfg.distance_ns = 250 * MS;
  cfg.lead_ns = 5 * MS;
  w = prn::plan_window (request (10 * MS, 64, 100, 640), TEN_MS_64, cfg);
  EXPECT_EQ (w.due, 10 * MS + 36 * 156250 + 250 * MS);
  EXPECT_EQ (w.start, w.due - 5 * MS);
  EXPECT_EQ (w.end, w.start + 100 * MS);
  cfg.cover_defect = false;
  w = prn::plan_window (request (10 * MS, 64, 100, 640), TEN_MS_64, cfg);
  EXPECT_EQ (w.end, w.start + 50 * MS);

  /* A region that began in the previous buffer (y < 0). */
  cfg = RejectConfig ();
  w = prn::plan_window (request (10 * MS, 64, 60, 8), TEN_MS_64, cfg);
  EXPECT_EQ (w.due, 10 * MS - 4 * 156250);

  /* No running time: no window. */
  w = prn::plan_window (request (GST_CLOCK_TIME_NONE, 0, 0, 1), TEN_MS_64, cfg);
  EXPECT_FALSE (GST_CLOCK_TIME_IS_VALID (w.start));
}

TEST (RejectPlan, OverlappingRequestsMergeIntoOnePulse)
{
  PulsePlanner planner;
  auto a = planner.add (window (100 * MS, 150 * MS), request (0, 0, 50, 14, 2, 4),
      GST_CLOCK_TIME_NONE, 20 * MS);
  auto b = planner.add (window (102 * MS, 152 * MS), request (0, 0, 64, 10, 4, 6),
      GST_CLOCK_TIME_NONE, 20 * MS);
  EXPECT_EQ (a.id, b.id);
  ASSERT_EQ (planner.pulses ().size (), 1u);
  const prn::Pulse &p = planner.pulses ()[0];
  EXPECT_EQ (p.start, 100 * MS);
  EXPECT_EQ (p.end, 152 * MS);
  EXPECT_EQ (p.count, 2u);
  EXPECT_EQ (p.row_first, 50u);
  EXPECT_EQ (p.row_last, 74u);
  EXPECT_EQ (p.x0, 2);
  EXPECT_EQ (p.x1, 10);
}

TEST (RejectPlan, MinGapMergesCloseAndKeepsFarPulsesApart)
{
  PulsePlanner planner;
  planner.add (window (0, 10 * MS), request (0, 0, 0, 1), GST_CLOCK_TIME_NONE, 20 * MS);
  planner.add (window (50 * MS, 60 * MS), request (0, 0, 320, 1), GST_CLOCK_TIME_NONE, 20 * MS);
  ASSERT_EQ (planner.pulses ().size (), 2u);
  /* 10 ms after the first: merged; the grown pulse [0, 30) is now exactly
   * min-gap away from the third one, which stays apart. */
  planner.add (window (20 * MS, 30 * MS), request (0, 0, 128, 1), GST_CLOCK_TIME_NONE, 20 * MS);
  ASSERT_EQ (planner.pulses ().size (), 2u);
  EXPECT_EQ (planner.pulses ()[0].end, 30 * MS);
  EXPECT_EQ (planner.pulses ()[0].count, 2u);
  /* A request bridging both chains them into one. */
  planner.add (window (35 * MS, 40 * MS), request (0, 0, 200, 1), GST_CLOCK_TIME_NONE, 20 * MS);
  ASSERT_EQ (planner.pulses ().size (), 1u);
  EXPECT_EQ (planner.pulses ()[0].start, 0u);
  EXPECT_EQ (planner.pulses ()[0].end, 60 * MS);
  EXPECT_EQ (planner.pulses ()[0].count, 4u);
}

TEST (RejectPlan, FireReleaseAndGuardAfterRelease)
{
  PulsePlanner planner;
  auto a = planner.add (window (100 * MS, 150 * MS), request (0, 0, 0, 1), 0, 20 * MS);
  EXPECT_FALSE (a.late);
  const prn::Pulse *p = planner.fire (a.id, 100 * MS);
  ASSERT_NE (p, nullptr);
  EXPECT_EQ (p->fired_at, 100 * MS);
  EXPECT_EQ (planner.fire (a.id, 100 * MS), nullptr);  /* fires once */

  /* Reaching into the active pulse extends it. */
  auto b = planner.add (window (140 * MS, 190 * MS), request (0, 0, 5, 1), 120 * MS, 20 * MS);
  EXPECT_EQ (b.id, a.id);
  EXPECT_EQ (planner.find (a.id)->end, 190 * MS);
  EXPECT_EQ (PulsePlanner::next_event (*planner.find (a.id)), 190 * MS);
  EXPECT_TRUE (planner.release (a.id, 190 * MS));
  EXPECT_TRUE (planner.pulses ().empty ());

  /* Within the rest after the release: absorbed when wholly inside it, else
   * starts when the actuator may move again. */
  auto c = planner.add (window (195 * MS, 205 * MS), request (0, 0, 9, 1), 190 * MS, 20 * MS);
  EXPECT_TRUE (c.absorbed);
  auto d = planner.add (window (200 * MS, 260 * MS), request (0, 0, 9, 1), 190 * MS, 20 * MS);
  ASSERT_FALSE (d.absorbed);
  EXPECT_EQ (planner.find (d.id)->start, 210 * MS);
}

TEST (RejectPlan, PastStartIsLateAndKeepsItsLength)
{
  PulsePlanner planner;
  auto a = planner.add (window (20 * MS, 70 * MS), request (0, 0, 0, 1), 100 * MS, 20 * MS);
  EXPECT_TRUE (a.late);
  const prn::Pulse *p = planner.fire (a.id, 100 * MS);
  ASSERT_NE (p, nullptr);
  EXPECT_TRUE (p->late);
  EXPECT_EQ (p->fired_at, 100 * MS);
  EXPECT_EQ (p->end, 150 * MS);
  EXPECT_EQ (p->start, 20 * MS);
}

TEST (RejectPlan, RequestsFromMeta)
{
  GstBuffer *buffer = gst_buffer_new ();
  GstPrnAnomalyMeta *meta = gst_buffer_add_prn_anomaly_meta (buffer);
  meta->row_offset = 640;
  meta->anomalous = FALSE;
  GstPrnRegion r = prntest::region (3, -2, 5, 6);
  r.web_row = 638;
  gst_prn_anomaly_meta_add_region (meta, &r);

  auto reqs = prn::requests_from_meta (*meta, false, 7 * MS, 64);
  ASSERT_EQ (reqs.size (), 1u);
  EXPECT_EQ (reqs[0].web_row, 638u);
  EXPECT_EQ (reqs[0].rows, 6u);
  EXPECT_EQ (reqs[0].x, 3);
  EXPECT_EQ (reqs[0].width, 5);
  EXPECT_EQ (reqs[0].row_offset, 640u);
  EXPECT_EQ (reqs[0].buffer_rt, 7 * MS);
  EXPECT_TRUE (prn::requests_from_meta (*meta, true, 7 * MS, 64).empty ());

  /* An anomalous buffer without regions asks for all its rows. */
  GstBuffer *b2 = gst_buffer_new ();
  GstPrnAnomalyMeta *m2 = gst_buffer_add_prn_anomaly_meta (b2);
  m2->row_offset = 128;
  m2->anomalous = TRUE;
  reqs = prn::requests_from_meta (*m2, true, 0, 64);
  ASSERT_EQ (reqs.size (), 1u);
  EXPECT_EQ (reqs[0].web_row, 128u);
  EXPECT_EQ (reqs[0].rows, 64u);
  EXPECT_TRUE (prn::requests_from_meta (*m2, false, 0, 64).empty ());
  gst_buffer_unref (b2);
  gst_buffer_unref (buffer);
}

TEST (RejectPlan, FireJson)
{
  prn::FireRecord r;
  r.fire_time = 171875000;
  r.due_time = 171875000;
  r.row_offset = 100;
  r.rows = 4;
  r.x = 2;
  r.width = 6;
  r.pulse_ms = 52.1875;
  r.late = false;
  r.count = 2;
  EXPECT_EQ (prn::fire_json (r), "{\"kind\":\"reject\",\"fire_time\":171875000,"
      "\"due_time\":171875000,\"row_offset\":100,\"rows\":4,\"x\":2,\"width\":6,"
      "\"pulse_ms\":52.1875,\"late\":false,\"count\":2}");
}
