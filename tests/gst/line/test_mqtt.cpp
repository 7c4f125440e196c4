/* prnmqtt against a real broker: Debian's mosquitto, started by each test on a
 * free loopback port, and a subscriber on libmosquitto in this process. The
 * messages are parsed back with json_parser.h and checked field by field. */
#include "jsonlines_fixture.h"
#include "reject_fixture.h"

#include <gtest/gtest.h>
#include <mosquitto.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace prntest;

namespace {

constexpr const char *TOPIC = "line7/defects";

/* The mosquitto broker: on PATH, else where Debian puts it (/usr/sbin is not on a
 * user's PATH). Empty when not installed. */
std::string
broker_program ()
{
  gchar *p = g_find_program_in_path ("mosquitto");
  std::string path = p != nullptr ? p : "";
  g_free (p);
  if (path.empty () && g_file_test ("/usr/sbin/mosquitto", G_FILE_TEST_IS_EXECUTABLE))
    path = "/usr/sbin/mosquitto";
  return path;
}

/* A TCP port nothing listens on now (the kernel's choice on loopback). */
int
free_port ()
{
  const int fd = socket (AF_INET, SOCK_STREAM, 0);
  sockaddr_in a {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind (fd, reinterpret_cast<sockaddr *> (&a), sizeof a);
  getsockname (fd, reinterpret_cast<sockaddr *> (&a), &len);
  close (fd);
  return ntohs (a.sin_port);
}

bool
accepts_connections (int port)
{
  const int fd = socket (AF_INET, SOCK_STREAM, 0);
  sockaddr_in a {};
  a.sin_family = AF_INET;
  a.sin_port = htons (static_cast<uint16_t> (port));
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  const bool ok = connect (fd, reinterpret_cast<sockaddr *> (&a), sizeof a) == 0;
  close (fd);
  return ok;
}

/* `mosquitto -p PORT` (local-only mode: loopback), stopped with the object. */
class Broker {
public:
  Broker (const std::string &program, int port) : port_ (port)
  {
    /* Everything the child needs is made before fork(): the process has threads. */
    const std::string p = std::to_string (port);
    const int devnull = open ("/dev/null", O_WRONLY);
    pid_ = fork ();
    if (pid_ == 0) {
      dup2 (devnull, STDERR_FILENO);
      dup2 (devnull, STDOUT_FILENO);
      execl (program.c_str (), program.c_str (), "-p", p.c_str (), static_cast<char *> (nullptr));
      _exit (127);
    }
    close (devnull);
    for (int i = 0; i < 100 && alive () && !accepts_connections (port_); i++)
      std::this_thread::sleep_for (std::chrono::milliseconds (50));
  }
  ~Broker ()
  {
    if (pid_ > 0) {
      kill (pid_, SIGTERM);
      waitpid (pid_, nullptr, 0);
    }
  }
  /* Ours is running and the port takes connections (not someone else's listener). */
  bool up () { return alive () && accepts_connections (port_); }

private:
  bool alive ()
  {
    if (pid_ <= 0 || waitpid (pid_, nullptr, WNOHANG) != 0) {
      pid_ = -1;
      return false;
    }
    return true;
  }

public:

private:
  int port_;
  pid_t pid_ = -1;
};

/* A subscriber to TOPIC that keeps every payload. */
class Subscriber {
public:
  explicit Subscriber (int port)
  {
    mosq_ = mosquitto_new (nullptr, true, this);
    mosquitto_subscribe_callback_set (mosq_, [] (mosquitto *, void *self, int, int, const int *) {
          auto *s = static_cast<Subscriber *> (self);
          std::lock_guard<std::mutex> lock (s->mutex_);
          s->subscribed_ = true;
          s->cond_.notify_all ();
        });
    mosquitto_message_callback_set (mosq_, [] (mosquitto *, void *self, const mosquitto_message *m) {
          auto *s = static_cast<Subscriber *> (self);
          std::lock_guard<std::mutex> lock (s->mutex_);
          s->payloads_.emplace_back (static_cast<const char *> (m->payload), m->payloadlen);
          s->cond_.notify_all ();
        });
    EXPECT_EQ (mosquitto_connect (mosq_, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS);
    EXPECT_EQ (mosquitto_subscribe (mosq_, nullptr, TOPIC, 1), MOSQ_ERR_SUCCESS);
    EXPECT_EQ (mosquitto_loop_start (mosq_), MOSQ_ERR_SUCCESS);
    std::unique_lock<std::mutex> lock (mutex_);
    EXPECT_TRUE (cond_.wait_for (lock, std::chrono::seconds (5), [this] { return subscribed_; }));
  }
  ~Subscriber ()
  {
    mosquitto_disconnect (mosq_);
    mosquitto_loop_stop (mosq_, false);
    mosquitto_destroy (mosq_);
  }
  /* The payloads once `n` have come (or after 5 s, whatever came), parsed. */
  std::vector<Json> wait_for (size_t n)
  {
    std::unique_lock<std::mutex> lock (mutex_);
    cond_.wait_for (lock, std::chrono::seconds (5), [&] { return payloads_.size () >= n; });
    std::vector<Json> out;
    for (const std::string &p : payloads_) {
      Json j;
      EXPECT_TRUE (parse_json (p, j)) << "not strict JSON: " << p;
      out.push_back (j);
    }
    return out;
  }

private:
  mosquitto *mosq_;
  std::mutex mutex_;
  std::condition_variable cond_;
  bool subscribed_ = false;
  std::vector<std::string> payloads_;
};

guint64
u64_property (GstElement *e, const char *name)
{
  guint64 v = 0;
  g_object_get (e, name, &v, NULL);
  return v;
}

bool
connected_now (GstElement *e)
{
  gboolean connected = FALSE;
  g_object_get (e, "connected", &connected, NULL);
  return connected;
}

bool
wait_connected (GstElement *e, int seconds)
{
  for (int i = 0; i < seconds * 20 && !connected_now (e); i++)
    std::this_thread::sleep_for (std::chrono::milliseconds (50));
  return connected_now (e);
}

class Mqtt : public ::testing::Test {
protected:
  void SetUp () override
  {
    program_ = broker_program ();
    mosquitto_lib_init ();
    port_ = free_port ();
  }
  bool have_broker () const { return !program_.empty (); }
  /* A harness around prnmqtt publishing to this test's broker, with `extra` set,
   * posting on `bus` when given. */
  GstHarness *harness (const std::function<void (GstElement *)> &extra = nullptr,
      GstBus *bus = nullptr)
  {
    return passthrough_harness ("prnmqtt", [&] (GstElement *e) {
          g_object_set (e, "host", "127.0.0.1", "port", port_, "topic", TOPIC, NULL);
          if (extra)
            extra (e);
        }, bus);
  }
  std::string program_;
  int port_ = 0;
};

#define NEED_BROKER()                                                                 \
  do {                                                                              \
    if (!have_broker ())                                                            \
      GTEST_SKIP () << "no mosquitto broker (Debian package mosquitto; scripts/setup.sh " \
          "installs it)";                                                           \
  } while (0)

/* The "prnmqtt" element message on `bus` (posted at EOS), or nullptr. */
GstMessage *
pop_counts (GstBus *bus)
{
  while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) {
    if (gst_structure_has_name (gst_message_get_structure (m), "prnmqtt"))
      return m;
    gst_message_unref (m);
  }
  return nullptr;
}

guint64
count_field (GstMessage *m, const char *field)
{
  guint64 v = G_MAXUINT64;
  EXPECT_TRUE (gst_structure_get_uint64 (gst_message_get_structure (m), field, &v)) << field;
  return v;
}

TEST_F (Mqtt, PublishesOneMessagePerRegionAsPrnjsonlinesWritesIt)
{
  NEED_BROKER ();
  Broker broker (program_, port_);
  ASSERT_TRUE (broker.up ());
  Subscriber sub (port_);
  BusHolder bus;
  GstHarness *h = harness (nullptr, bus.bus);
  ASSERT_NE (h, nullptr);
  ASSERT_TRUE (wait_connected (h->element, 5));
  push_shifted_segment (h);

  const std::vector<GstPrnRegion> regions = { region_with (2, 1, 4, 3, 10, 0.95f),
    region_with (8, -5, 6, 7, 30, 0.7f) };
  push_ok (h, meta_frame (2 * GST_SECOND, true, regions));
  push_ok (h, make_frame ("GRAY8", JSONLINES_WIDTH, JSONLINES_HEIGHT, 0)); /* no meta: nothing */
  push_ok (h, meta_frame (3 * GST_SECOND, true, {}));                      /* no regions: nothing */
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  /* EOS returned after the broker's acknowledgements, and said so. */
  EXPECT_EQ (u64_property (h->element, "published"), 2u);
  EXPECT_EQ (u64_property (h->element, "delivered"), 2u) << "QoS 1: both acknowledged at EOS";
  EXPECT_EQ (u64_property (h->element, "dropped"), 0u);
  GstMessage *counts = pop_counts (bus.bus);
  ASSERT_NE (counts, nullptr) << "no prnmqtt message at EOS";
  EXPECT_EQ (count_field (counts, "published"), 2u);
  EXPECT_EQ (count_field (counts, "delivered"), 2u);
  EXPECT_EQ (count_field (counts, "dropped"), 0u);
  EXPECT_EQ (count_field (counts, "waiting"), 0u);
  gst_message_unref (counts);
  EXPECT_EQ (count_warnings (bus.bus), 0);
  ASSERT_EQ (gst_element_set_state (h->element, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ (u64_property (h->element, "delivered"), 2u) << "the counts stay readable after stop";

  const auto messages = sub.wait_for (2);
  ASSERT_EQ (messages.size (), 2u);
  for (size_t i = 0; i < 2; i++) {
    SCOPED_TRACE (i);
    const Json &j = messages[i];
    EXPECT_EQ (j.keys (), (std::vector<std::string> { "kind", "pts", "running_time",
                "row_offset", "x", "y", "width", "height", "area", "score", "buffer_score",
                "threshold", "model_id" }));
    expect_string (j["kind"], "region", "kind");
    expect_int (j["pts"], 2 * GST_SECOND, "pts");
    expect_int (j["running_time"], 11 * GST_SECOND, "running_time");
    expect_int (j["row_offset"], 4096 + regions[i].y, "row_offset");
    expect_region_fields (j, regions[i]);
    expect_string (j["model_id"], "test-model", "model_id");
  }
  gst_harness_teardown (h);
}

TEST_F (Mqtt, WhatBuffersPublishesEveryBufferWithAMetaAtQos0)
{
  NEED_BROKER ();
  Broker broker (program_, port_);
  Subscriber sub (port_);
  GstHarness *h = harness ([] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "what", "buffers");
        g_object_set (e, "mqtt-qos", 0, NULL);
      });
  ASSERT_NE (h, nullptr);
  ASSERT_TRUE (wait_connected (h->element, 5));
  push_ok (h, meta_frame (1 * GST_SECOND, false, {}));
  push_ok (h, meta_frame (2 * GST_SECOND, true, { region_with (0, 0, 2, 2, 4, 0.8f) }));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (u64_property (h->element, "delivered"), 2u) << "QoS 0: both written at EOS";

  const auto messages = sub.wait_for (2);
  ASSERT_EQ (messages.size (), 2u);
  expect_string (messages[0]["kind"], "buffer", "kind");
  ASSERT_EQ (messages[0]["anomalous"].type, Json::BOOL);
  EXPECT_FALSE (messages[0]["anomalous"].boolean);
  EXPECT_TRUE (messages[1]["anomalous"].boolean);
  ASSERT_EQ (messages[1]["regions"].items.size (), 1u);
  expect_int (messages[1]["pts"], 2 * GST_SECOND, "pts");
  gst_harness_teardown (h);
}

TEST_F (Mqtt, StartsWhileTheBrokerIsDownAndPublishesOnceItIsUp)
{
  NEED_BROKER ();
  GstHarness *h = harness ();
  ASSERT_NE (h, nullptr);
  EXPECT_FALSE (connected_now (h->element)) << "nothing listens on port " << port_;

  Broker broker (program_, port_);
  ASSERT_TRUE (broker.up ());
  Subscriber sub (port_);
  ASSERT_TRUE (wait_connected (h->element, 10)) << "no reconnection within 10 s";
  push_ok (h, meta_frame (1 * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.9f) }));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  const auto messages = sub.wait_for (1);
  ASSERT_EQ (messages.size (), 1u);
  expect_string (messages[0]["kind"], "region", "kind");
  gst_harness_teardown (h);
}

TEST_F (Mqtt, Qos1MessagesWaitOutABrokerRestart)
{
  NEED_BROKER ();
  auto broker = std::make_unique<Broker> (program_, port_);
  ASSERT_TRUE (broker->up ());
  GstHarness *h = harness ();
  ASSERT_NE (h, nullptr);
  ASSERT_TRUE (wait_connected (h->element, 5));
  push_ok (h, meta_frame (1 * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.9f) }));

  broker.reset (); /* the broker goes away */
  for (int i = 0; i < 100 && connected_now (h->element); i++)
    std::this_thread::sleep_for (std::chrono::milliseconds (50));
  ASSERT_FALSE (connected_now (h->element));
  push_ok (h, meta_frame (2 * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.9f),
                                                  region_with (5, 1, 2, 2, 4, 0.8f) }));
  EXPECT_EQ (u64_property (h->element, "published"), 3u);
  EXPECT_EQ (u64_property (h->element, "dropped"), 0u) << "QoS 1 queues while the broker is away";

  broker = std::make_unique<Broker> (program_, port_); /* and comes back */
  ASSERT_TRUE (broker->up ());
  ASSERT_TRUE (wait_connected (h->element, 10)) << "no reconnection within 10 s";
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (u64_property (h->element, "delivered"), 3u) << "the queued two acknowledged after it";
  gst_harness_teardown (h);
}

TEST_F (Mqtt, Qos0DropsWhileTheBrokerIsAwayAndMaxQueuedBoundsQos1)
{
  /* No broker at all: the port is free. */
  {
    BusHolder bus;
    GstHarness *h = harness ([] (GstElement *e) { g_object_set (e, "mqtt-qos", 0, NULL); }, bus.bus);
    ASSERT_NE (h, nullptr);
    for (int i = 0; i < 3; i++)
      push_ok (h, meta_frame (i * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.9f) }));
    EXPECT_EQ (u64_property (h->element, "published"), 0u);
    EXPECT_EQ (u64_property (h->element, "dropped"), 3u);
    EXPECT_EQ (count_warnings (bus.bus), 1) << "one warning per outage, not per message";
    gst_harness_teardown (h);
  }
  {
    GstHarness *h = harness ([] (GstElement *e) {
          g_object_set (e, "max-queued", 2u, "flush-timeout", 100u, NULL);
        });
    ASSERT_NE (h, nullptr);
    for (int i = 0; i < 3; i++)
      push_ok (h, meta_frame (i * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.9f) }));
    EXPECT_EQ (u64_property (h->element, "published"), 2u);
    EXPECT_EQ (u64_property (h->element, "dropped"), 1u);
    gst_harness_teardown (h);
  }
}

TEST_F (Mqtt, BadSettingsFailTheStartNamingThem)
{
  expect_start_error ([] (GstElement *e) { g_object_set (e, "topic", "line7/+/defects", NULL); },
      { "Invalid MQTT topic \"line7/+/defects\"", "wildcards" }, "prnmqtt");
  expect_start_error ([] (GstElement *e) { g_object_set (e, "topic", "", NULL); },
      { "Invalid MQTT topic", "empty" }, "prnmqtt");
  expect_start_error ([] (GstElement *e) {
        g_object_set (e, "host", "no-such-broker.invalid", "port", 1884, NULL);
      }, { "no-such-broker.invalid:1884", "does not resolve" }, "prnmqtt");
  expect_start_error ([] (GstElement *e) { g_object_set (e, "password", "secret", NULL); },
      { "password", "username" }, "prnmqtt");
}

}  // namespace
