/* prnreject with GstHarness and its GstTestClock: exact fire times from row
 * offsets, merging, late fires, flush and EOS, and the outputs (bus message, UDP
 * on loopback, stdout) and their errors. */
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "prnreject-output.h"

using namespace prntest;

namespace {

constexpr GstClockTime MS = GST_MSECOND;
constexpr GstClockTime ROW = 156250;    /* 10 ms / 64 rows */
const char *const CAPS = "video/x-raw,format=GRAY8,width=16,height=64,framerate=0/1";

struct Defect {
  guint64 web_row;
  gint height;
  gint x = 2, width = 6;
};

/* A GRAY8 16 x rows frame of web rows [row_offset, row_offset + rows) with a meta
 * and `defects` as regions; duration 10 ms per 64 rows unless given. */
GstBuffer *
web_buffer (GstClockTime pts, guint64 row_offset, const std::vector<Defect> &defects,
    int rows = 64, GstClockTime duration = GST_CLOCK_TIME_NONE, bool anomalous = true)
{
  GstBuffer *buffer = make_frame ("GRAY8", 16, rows, 0);
  GstPrnAnomalyMeta *meta = add_flat_meta (buffer, rows);
  meta->row_offset = row_offset;
  meta->anomalous = anomalous;
  for (const Defect &d : defects) {
    GstPrnRegion r = region (d.x, static_cast<gint> (d.web_row - row_offset), d.width, d.height);
    r.web_row = d.web_row;
    gst_prn_anomaly_meta_add_region (meta, &r);
  }
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_IS_VALID (duration) ? duration
      : static_cast<GstClockTime> (rows) * ROW;
  return buffer;
}

/* A harness around a prnreject set up by `configure`, its messages on `bus`. */
GstHarness *
reject_harness (const std::function<void (GstElement *)> &configure, GstBus *bus)
{
  GstElement *element = gst_element_factory_make ("prnreject", nullptr);
  EXPECT_NE (element, nullptr) << "prnreject not found on GST_PLUGIN_PATH";
  if (element == nullptr)
    return nullptr;
  configure (element);
  gst_element_set_bus (element, bus);
  GstHarness *h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_use_testclock (h);
  gst_harness_set_caps_str (h, CAPS, CAPS);
  return h;
}

GstClockTime
next_clock_time (GstHarness *h)
{
  GstTestClock *clock = gst_harness_get_testclock (h);
  const GstClockTime t = gst_test_clock_get_next_entry_time (clock);
  gst_object_unref (clock);
  return t;
}

guint
pending_ids (GstHarness *h)
{
  GstTestClock *clock = gst_harness_get_testclock (h);
  const guint n = gst_test_clock_peek_id_count (clock);
  gst_object_unref (clock);
  return n;
}

/* The next "prnreject" element message, or nullptr. */
GstStructure *
pop_fire (GstBus *bus, GstClockTime timeout = 0)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout, GST_MESSAGE_ELEMENT);
  if (msg == nullptr)
    return nullptr;
  const GstStructure *s = gst_message_get_structure (msg);
  GstStructure *copy = gst_structure_has_name (s, "prnreject") ? gst_structure_copy (s)
      : nullptr;
  gst_message_unref (msg);
  return copy;
}

struct Fire {
  guint64 fire_time = 0, due_time = 0, row_offset = 0, rows = 0;
  gint x = 0, width = 0;
  double pulse_ms = 0;
  gboolean late = FALSE;
  guint count = 0;
};

Fire
parse_fire (GstStructure *s)
{
  Fire f;
  EXPECT_TRUE (gst_structure_get (s, "fire-time", G_TYPE_UINT64, &f.fire_time,
          "due-time", G_TYPE_UINT64, &f.due_time, "row-offset", G_TYPE_UINT64, &f.row_offset,
          "rows", G_TYPE_UINT64, &f.rows, "x", G_TYPE_INT, &f.x, "width", G_TYPE_INT, &f.width,
          "pulse-ms", G_TYPE_DOUBLE, &f.pulse_ms, "late", G_TYPE_BOOLEAN, &f.late,
          "count", G_TYPE_UINT, &f.count, NULL)) << gst_structure_to_string (s);
  gst_structure_free (s);
  return f;
}

/* Cranks the next clock id and returns the fire message it posted. */
Fire
crank_fire (GstHarness *h, GstBus *bus, GstClockTime expected_time)
{
  EXPECT_EQ (next_clock_time (h), expected_time);
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));
  GstStructure *s = pop_fire (bus, GST_SECOND);
  EXPECT_NE (s, nullptr) << "no fire message";
  return s != nullptr ? parse_fire (s) : Fire ();
}

/* A flat JSON object's members as raw text ("true", "12", "\"reject\""). */
std::map<std::string, std::string>
flat_json (const std::string &text)
{
  std::map<std::string, std::string> out;
  std::string body = text;
  while (!body.empty () && (body.back () == '\n' || body.back () == ' '))
    body.pop_back ();
  EXPECT_TRUE (body.size () >= 2 && body.front () == '{' && body.back () == '}') << text;
  if (body.size () < 2)
    return out;
  body = body.substr (1, body.size () - 2);
  size_t i = 0;
  while (i < body.size ()) {
    const size_t colon = body.find (':', i);
    size_t comma = body.find (',', colon);
    if (colon == std::string::npos)
      break;
    if (comma == std::string::npos)
      comma = body.size ();
    std::string key = body.substr (i, colon - i);
    EXPECT_TRUE (key.size () >= 2 && key.front () == '"' && key.back () == '"') << key;
    out[key.substr (1, key.size () - 2)] = body.substr (colon + 1, comma - colon - 1);
    i = comma + 1;
  }
  return out;
}

class BusHolder {
public:
  BusHolder () : bus (gst_bus_new ()) {}
  ~BusHolder () { gst_object_unref (bus); }
  GstBus *bus;
};

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

TEST (Reject, UdpDatagramOnLoopback)
{
  const int fd = socket (AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE (fd, 0);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ (bind (fd, reinterpret_cast<struct sockaddr *> (&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ (getsockname (fd, reinterpret_cast<struct sockaddr *> (&addr), &len), 0);
  const guint port = ntohs (addr.sin_port);

  BusHolder b;
  GstHarness *h = reject_harness ([port] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "output", "udp");
        g_object_set (e, "host", "127.0.0.1", "port", port, "distance-rows",
            G_GUINT64_CONSTANT (1000), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (10 * MS, 64, { { 100, 4 } }));
  push_ok (h, web_buffer (20 * MS, 128, { { 1128, 2 } }));
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));   /* first fire */
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));   /* its release */
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));   /* second fire */
  EXPECT_EQ (pop_fire (b.bus), nullptr) << "output=udp posts no message";

  const GstClockTime expected[] = { 10 * MS + 1036 * ROW, 20 * MS + 2000 * ROW };
  for (GstClockTime want : expected) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    ASSERT_EQ (poll (&pfd, 1, 2000), 1) << "no datagram";
    char buf[1024];
    const ssize_t n = recv (fd, buf, sizeof buf, 0);
    ASSERT_GT (n, 0);
    auto j = flat_json (std::string (buf, n));
    EXPECT_EQ (j["kind"], "\"reject\"");
    EXPECT_EQ (j["fire_time"], std::to_string (want));
    EXPECT_EQ (j["due_time"], std::to_string (want));
    EXPECT_EQ (j["late"], "false");
    EXPECT_EQ (j["count"], "1");
    EXPECT_EQ (j["pulse_ms"], "50");
  }
  gst_harness_teardown (h);
  close (fd);
}

TEST (Reject, StdoutJsonLine)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "output", "stdout+message");
        g_object_set (e, "distance-rows", G_GUINT64_CONSTANT (1000), NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, web_buffer (10 * MS, 64, { { 100, 4 } }));
  testing::internal::CaptureStdout ();
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));
  const std::string out = testing::internal::GetCapturedStdout ();
  ASSERT_FALSE (out.empty ());
  EXPECT_EQ (out.back (), '\n');
  EXPECT_EQ (out.find ('\n'), out.size () - 1) << "one line";
  auto j = flat_json (out);
  EXPECT_EQ (j["fire_time"], "171875000");
  EXPECT_EQ (j["row_offset"], "100");
  EXPECT_EQ (j["rows"], "4");
  EXPECT_NE (pop_fire (b.bus, GST_SECOND), nullptr) << "and the message";
  gst_harness_teardown (h);
}

namespace {

/* Starting an element set up by `configure` fails with a RESOURCE error whose
 * message contains every one of `words`. */
void
expect_start_error (const std::function<void (GstElement *)> &configure,
    const std::vector<std::string> &words)
{
  GstElement *element = gst_element_factory_make ("prnreject", nullptr);
  ASSERT_NE (element, nullptr);
  gst_object_ref_sink (element);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (element, bus);
  configure (element);
  EXPECT_EQ (gst_element_set_state (element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  ASSERT_NE (msg, nullptr);
  GError *error = nullptr;
  gst_message_parse_error (msg, &error, nullptr);
  EXPECT_EQ (error->domain, GST_RESOURCE_ERROR);
  for (const std::string &w : words)
    EXPECT_NE (std::string (error->message).find (w), std::string::npos)
        << "\"" << w << "\" not in: " << error->message;
  g_clear_error (&error);
  gst_message_unref (msg);
  EXPECT_EQ (gst_element_set_state (element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (element, nullptr);
  gst_object_unref (bus);
  gst_object_unref (element);
}

}  // namespace

TEST (Reject, BadHostIsAnErrorNamingIt)
{
  expect_start_error ([] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "output", "udp");
        g_object_set (e, "host", "no such host", NULL);
      }, { "\"no such host\"", "host" });
}

TEST (Reject, GpioErrorsNameThePropertyOrChip)
{
  if (!prn::GpioLine::available ()) {
    expect_start_error ([] (GstElement *e) {
          gst_util_set_object_arg (G_OBJECT (e), "output", "gpio");
          g_object_set (e, "gpio-chip", "gpiochip0", NULL);
        }, { "output=gpio", "libgpiod" });
    return;
  }
  expect_start_error ([] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "output", "gpio");
      }, { "output=gpio", "gpio-chip" });
  expect_start_error ([] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "output", "message+gpio");
        g_object_set (e, "gpio-chip", "prn-no-such-gpiochip", "gpio-line", 3, NULL);
      }, { "\"prn-no-such-gpiochip\"", "gpio-chip", "line 3" });
}

TEST (Reject, SystemClockFiresInRealTimeAndDrainsAtEos)
{
  BusHolder b;
  GstHarness *h = reject_harness ([] (GstElement *e) {
        g_object_set (e, "distance-ms", 200.0, "pulse-ms", 10.0, NULL);
      }, b.bus);
  ASSERT_NE (h, nullptr);
  gst_harness_use_systemclock (h);
  GstClock *clock = gst_element_get_clock (h->element);
  ASSERT_NE (clock, nullptr);
  /* Running time = clock time - base time (0 in the harness). */
  const GstClockTime now = gst_clock_get_time (clock) - gst_element_get_base_time (h->element);
  gst_object_unref (clock);
  ASSERT_TRUE (push_time_segment (h));

  push_ok (h, web_buffer (now, 0, { { 0, 4 } }));
  EXPECT_EQ (pop_fire (b.bus), nullptr);
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));   /* waits for it */
  GstStructure *s = pop_fire (b.bus, 0);
  ASSERT_NE (s, nullptr) << "the pulse fired before EOS passed";
  Fire f = parse_fire (s);
  EXPECT_EQ (f.fire_time, now + 200 * MS);
  EXPECT_FALSE (f.late);
  gst_harness_teardown (h);
}
