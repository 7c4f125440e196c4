/* prnline: an MQTT publisher for prnmqtt, on libmosquitto. Plain C++ (no
 * GObject): it connects in the background, reconnects after a broker outage and
 * accounts for every message: published = delivered + lost + still in flight. */
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "prnwait-end.h"

struct mosquitto;

namespace prn {

struct MqttOptions {
  std::string host = "localhost";
  int port = 1883;
  std::string client_id;        /* empty: the library makes one up */
  std::string username, password; /* empty: none */
  int keepalive_s = 30;
  /* Messages in flight (published, neither delivered nor lost) at most; beyond,
   * publish() refuses: bounds the memory a long broker outage takes at QoS 1/2. */
  uint64_t max_in_flight = 10000;
};

class MqttClient {
public:
  /* Starts connecting to the broker in a thread of libmosquitto's own, which
   * keeps reconnecting while the broker is away (after 1 s, then 4, 9, 16, 25 and
   * every 30 s: libmosquitto's backoff). Throws std::runtime_error naming
   * host:port when the connection cannot be started at all: a host name that
   * does not resolve, bad options. A broker that refuses or does not answer yet
   * is not an error: connected() says. */
  explicit MqttClient (const MqttOptions & options);
  /* Disconnects and stops the thread (at once when not connected, so that a
   * broker that does not answer cannot hold it up). */
  ~MqttClient ();
  MqttClient (const MqttClient &) = delete;
  MqttClient & operator= (const MqttClient &) = delete;

  /* Hands one message to the library; it goes out now when connected. QoS 1
   * and 2 messages published while the broker is away are queued and sent after
   * the reconnection; QoS 0 ones are refused then, and those still queued when
   * a connection drops are counted as lost. Returns "" when handed over, else
   * why not. Never blocks on the network. */
  std::string publish (const std::string & topic, const std::string & payload, int qos,
      bool retain);

  /* Waits until no message is in flight (QoS 0: written to the socket; QoS 1/2:
   * acknowledged by the broker), at most `timeout` or until change_wait() ends
   * it; counts () says what is left. */
  void wait_delivered (std::chrono::milliseconds timeout);
  /* FLUSH_START and LEAVING_PAUSED make a wait_delivered in another thread
   * return now, and later ones; FLUSH_STOP undoes FLUSH_START only. */
  void change_wait (WaitChange change);

  struct Counts {
    uint64_t published = 0;     /* handed over by publish() */
    uint64_t delivered = 0;     /* acknowledged (QoS 1/2) or written (QoS 0) */
    uint64_t lost = 0;          /* QoS 0 messages a dropped connection took away */
    uint64_t in_flight = 0;     /* published - delivered - lost */
  };
  Counts counts () const;       /* all four at one instant */
  bool connected () const;
  std::string where () const;   /* "host:port" */

  /* Why `topic` cannot be published to ("" when it can): empty, wildcards (+, #),
   * invalid UTF-8, too long. */
  static std::string topic_problem (const std::string & topic);

private:
  static void on_connect (struct mosquitto *, void *self, int rc);
  static void on_disconnect (struct mosquitto *, void *self, int rc);
  static void on_publish (struct mosquitto *, void *self, int mid);
  uint64_t in_flight_locked () const { return published_ - delivered_ - lost_; }

  MqttOptions options_;
  struct mosquitto *mosq_ = nullptr;
  /* All below under mutex_. libmosquitto may report a message (on_publish) before
   * mosquitto_publish has returned its id: such ids wait in early_. */
  mutable std::mutex mutex_;
  std::condition_variable cond_;
  bool connected_ = false;
  WaitEnd wait_end_;
  uint64_t published_ = 0, delivered_ = 0, lost_ = 0, disconnects_ = 0;
  std::unordered_map<int, int> in_flight_;      /* message id -> QoS */
  std::set<int> early_;
  /* QoS 0 ids a disconnection may have discarded while publish() ran: counted as
   * lost, unless libmosquitto reports them written after all. */
  std::set<int> maybe_lost_;
};

}  // namespace prn
