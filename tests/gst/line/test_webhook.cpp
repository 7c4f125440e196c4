/* prnwebhook against a real HTTP server: a small one in this process on a free
 * loopback port, which records every request and answers with the status the
 * test asks for. Bodies are parsed back with json_parser.h. */
#include "jsonlines_fixture.h"
#include "reject_fixture.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace prntest;

namespace {

struct Request {
  std::string request_line;     /* "POST /hook HTTP/1.1" */
  std::string headers;          /* the header block, as received */
  std::string body;
};

/* A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1:<free port>.
 * `status(i)` is the status of the i-th request (0-based). */
class HttpServer {
public:
  explicit HttpServer (std::function<int (size_t)> status, int delay_ms = 0)
      : status_ (std::move (status)), delay_ms_ (delay_ms)
  {
    fd_ = socket (AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ (bind (fd_, reinterpret_cast<sockaddr *> (&a), sizeof a), 0);
    getsockname (fd_, reinterpret_cast<sockaddr *> (&a), &len);
    port_ = ntohs (a.sin_port);
    EXPECT_EQ (listen (fd_, 16), 0);
    thread_ = std::thread ([this] { serve (); });
  }
  ~HttpServer ()
  {
    stop_ = true;
    shutdown (fd_, SHUT_RDWR);
    close (fd_);
    thread_.join ();
  }
  std::string url (const char *path = "/hook") const
  {
    return "http://127.0.0.1:" + std::to_string (port_) + path;
  }
  std::vector<Request> requests ()
  {
    std::lock_guard<std::mutex> lock (mutex_);
    return requests_;
  }

private:
  void serve ()
  {
    while (!stop_) {
      const int c = accept (fd_, nullptr, nullptr);
      if (c < 0)
        return;
      handle (c);
      close (c);
    }
  }
  void handle (int c)
  {
    std::string in;
    char buf[4096];
    size_t head_end;
    while ((head_end = in.find ("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = recv (c, buf, sizeof buf, 0);
      if (n <= 0)
        return;
      in.append (buf, static_cast<size_t> (n));
    }
    Request r;
    const size_t line_end = in.find ("\r\n");
    r.request_line = in.substr (0, line_end);
    r.headers = in.substr (line_end + 2, head_end - line_end - 2);
    size_t length = 0;
    const size_t cl = r.headers.find ("Content-Length: ");
    if (cl != std::string::npos)
      length = std::stoul (r.headers.substr (cl + 16));
    r.body = in.substr (head_end + 4);
    while (r.body.size () < length) {
      const ssize_t n = recv (c, buf, sizeof buf, 0);
      if (n <= 0)
        return;
      r.body.append (buf, static_cast<size_t> (n));
    }
    size_t index;
    {
      std::lock_guard<std::mutex> lock (mutex_);
      index = requests_.size ();
      requests_.push_back (r);
    }
    if (delay_ms_ > 0)
      std::this_thread::sleep_for (std::chrono::milliseconds (delay_ms_));
    const int status = status_ (index);
    const std::string answer = "HTTP/1.1 " + std::to_string (status) + " X\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\nok";
    send (c, answer.data (), answer.size (), MSG_NOSIGNAL);
  }

  std::function<int (size_t)> status_;
  int delay_ms_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_ {false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Request> requests_;
};

GstHarness *
webhook_harness (const std::function<void (GstElement *)> &configure, GstBus *bus = nullptr)
{
  return passthrough_harness ("prnwebhook", configure, bus);
}

guint64
count (GstHarness *h, const char *name)
{
  guint64 v = 0;
  g_object_get (h->element, name, &v, NULL);
  return v;
}

GstBuffer *
one_region (GstClockTime pts)
{
  return meta_frame (pts, true, { region_with (1, 1, 2, 2, 4, 0.9f) });
}

}  // namespace

TEST (Webhook, PostsOneJsonObjectPerRegionWithItsHeaders)
{
  HttpServer server ([] (size_t) { return 200; });
  BusHolder bus;
  GstHarness *h = webhook_harness ([&] (GstElement *e) {
        g_object_set (e, "location", server.url ().c_str (), "header", "Authorization: Bearer t0k",
            NULL);
      }, bus.bus);
  ASSERT_NE (h, nullptr);
  push_shifted_segment (h);
  const std::vector<GstPrnRegion> regions = { region_with (2, 1, 4, 3, 10, 0.95f),
    region_with (8, -5, 6, 7, 30, 0.7f) };
  push_ok (h, meta_frame (2 * GST_SECOND, true, regions));
  push_ok (h, make_frame ("GRAY8", JSONLINES_WIDTH, JSONLINES_HEIGHT, 0)); /* no meta: nothing */
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ())); /* waits for the queue */
  EXPECT_EQ (count (h, "posted"), 2u);
  EXPECT_EQ (count (h, "failed"), 0u);
  EXPECT_EQ (count (h, "dropped"), 0u);

  GstMessage *m = gst_bus_pop_filtered (bus.bus, GST_MESSAGE_ELEMENT);
  ASSERT_NE (m, nullptr) << "no prnwebhook message at EOS";
  const GstStructure *st = gst_message_get_structure (m);
  EXPECT_TRUE (gst_structure_has_name (st, "prnwebhook"));
  guint64 posted = 0, waiting = 1;
  EXPECT_TRUE (gst_structure_get_uint64 (st, "posted", &posted));
  EXPECT_TRUE (gst_structure_get_uint64 (st, "waiting", &waiting));
  EXPECT_EQ (posted, 2u);
  EXPECT_EQ (waiting, 0u);
  gst_message_unref (m);

  const auto requests = server.requests ();
  ASSERT_EQ (requests.size (), 2u);
  for (size_t i = 0; i < 2; i++) {
    SCOPED_TRACE (i);
    EXPECT_EQ (requests[i].request_line, "POST /hook HTTP/1.1");
    EXPECT_NE (requests[i].headers.find ("Content-Type: application/json"), std::string::npos);
    EXPECT_NE (requests[i].headers.find ("Authorization: Bearer t0k"), std::string::npos);
    Json j;
    ASSERT_TRUE (parse_json (requests[i].body, j)) << requests[i].body;
    expect_string (j["kind"], "region", "kind");
    expect_int (j["running_time"], 11 * GST_SECOND, "running_time");
    expect_region_fields (j, regions[i]);
  }
  gst_harness_teardown (h);
}

TEST (Webhook, RetriesAFailedRequestThenGivesUpWithOneWarning)
{
  /* The first answer is a 500, then 200: one retry delivers. */
  {
    HttpServer server ([] (size_t i) { return i == 0 ? 500 : 200; });
    GstHarness *h = webhook_harness ([&] (GstElement *e) {
          g_object_set (e, "location", server.url ().c_str (), "retries", 2u, NULL);
        });
    ASSERT_NE (h, nullptr);
    push_ok (h, one_region (GST_SECOND));
    ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
    EXPECT_EQ (count (h, "posted"), 1u);
    EXPECT_EQ (count (h, "failed"), 0u);
    EXPECT_EQ (server.requests ().size (), 2u);
    gst_harness_teardown (h);
  }
  /* Always 503: each object is tried 1 + retries times, then failed; one warning. */
  {
    HttpServer server ([] (size_t) { return 503; });
    BusHolder bus;
    GstHarness *h = webhook_harness ([&] (GstElement *e) {
          g_object_set (e, "location", server.url ().c_str (), "retries", 1u, NULL);
        }, bus.bus);
    ASSERT_NE (h, nullptr);
    push_ok (h, one_region (GST_SECOND));
    push_ok (h, one_region (2 * GST_SECOND));
    ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
    EXPECT_EQ (count (h, "posted"), 0u);
    EXPECT_EQ (count (h, "failed"), 2u);
    EXPECT_EQ (server.requests ().size (), 4u);
    EXPECT_EQ (count_warnings (bus.bus), 1) << "one warning per outage, not per object";
    gst_harness_teardown (h);
  }
}

TEST (Webhook, NeverHoldsTheStreamUpAndBoundsItsQueue)
{
  /* Each answer takes 500 ms; max-queued 2: of 6 objects pushed at once, one is
   * in progress, two wait and three are dropped, and the buffers pass at once
   * (waiting for the server, pushing would take 0.5 s or more). */
  HttpServer server ([] (size_t) { return 200; }, 500);
  GstHarness *h = webhook_harness ([&] (GstElement *e) {
        g_object_set (e, "location", server.url ().c_str (), "max-queued", 2u, NULL);
      });
  ASSERT_NE (h, nullptr);
  const auto t0 = std::chrono::steady_clock::now ();
  for (int i = 0; i < 6; i++)
    push_ok (h, one_region (i * GST_SECOND));
  const double pushing_s =
      std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
  EXPECT_LT (pushing_s, 0.45) << "the buffers waited for the server";
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  const guint64 posted = count (h, "posted"), dropped = count (h, "dropped");
  EXPECT_EQ (posted + dropped, 6u);
  EXPECT_GE (dropped, 3u);
  EXPECT_LE (dropped, 4u); /* 4 when the worker had not taken the first one yet */
  gst_harness_teardown (h);
}

TEST (Webhook, ServerDownCountsFailures)
{
  int port;
  {
    HttpServer gone ([] (size_t) { return 200; });
    port = std::stoi (gone.url ().substr (17));  /* "http://127.0.0.1:" */
  }
  const std::string url = "http://127.0.0.1:" + std::to_string (port) + "/hook";
  GstHarness *h = webhook_harness ([&] (GstElement *e) {
        g_object_set (e, "location", url.c_str (), "retries", 0u, NULL);
      });
  ASSERT_NE (h, nullptr);
  push_ok (h, one_region (GST_SECOND));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (count (h, "failed"), 1u) << "connection refused";
  gst_harness_teardown (h);
}

TEST (Webhook, StopAbortsTheRequestInProgress)
{
  /* The server takes 3 s to answer and the timeout is 10 s: stopping must not wait. */
  HttpServer server ([] (size_t) { return 200; }, 3000);
  GstHarness *h = webhook_harness ([&] (GstElement *e) {
        g_object_set (e, "location", server.url ().c_str (), "timeout", 10000u, NULL);
      });
  ASSERT_NE (h, nullptr);
  push_ok (h, one_region (GST_SECOND));
  push_ok (h, one_region (2 * GST_SECOND));
  for (int i = 0; i < 100 && server.requests ().empty (); i++)
    std::this_thread::sleep_for (std::chrono::milliseconds (20));
  ASSERT_EQ (server.requests ().size (), 1u) << "the first request is in progress";
  const auto t0 = std::chrono::steady_clock::now ();
  ASSERT_EQ (gst_element_set_state (h->element, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  EXPECT_LT (std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count (), 2.0);
  /* The counts of the run stay readable: both objects dropped (one aborted, one queued). */
  EXPECT_EQ (count (h, "posted"), 0u);
  EXPECT_EQ (count (h, "dropped"), 2u);
  gst_harness_teardown (h);
}

TEST (Webhook, BadSettingsFailTheStartNamingThem)
{
  expect_start_error ([] (GstElement *) {}, { "No webhook URL", "location" }, "prnwebhook");
  expect_start_error ([] (GstElement *e) { g_object_set (e, "location", "ftp://mes/x", NULL); },
      { "location", "http:// or https://", "ftp://mes/x" }, "prnwebhook");
  expect_start_error ([] (GstElement *e) {
        g_object_set (e, "location", "http://mes/x", "header", "Bearer abc", NULL);
      }, { "header", "Name: value", "Bearer abc" }, "prnwebhook");
}
