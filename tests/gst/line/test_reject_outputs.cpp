/* prnreject's outputs (UDP on loopback, stdout, the bus message) and their
 * errors (bad host, GPIO), and fires in real time on the system clock. */
#include "reject_fixture.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "prnreject-output.h"

using namespace prntest;

namespace {

constexpr GstClockTime MS = GST_MSECOND;
constexpr GstClockTime ROW = REJECT_ROW;    /* 10 ms / 64 rows */

}  // namespace

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
