/* prnline: an MQTT publisher for prnmqtt, on libmosquitto. Plain C++ (no
 * GObject): it connects in the background, reconnects after a broker outage and
 * counts what it published and what the broker acknowledged. */
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

struct mosquitto;

namespace prn {

struct MqttOptions {
  std::string host = "localhost";
  int port = 1883;
  std::string client_id;        /* empty: the library makes one up */
  std::string username, password; /* empty: none */
  int keepalive_s = 30;
};

class MqttClient {
public:
  /* Starts connecting to the broker in a thread of libmosquitto's own, which
   * keeps reconnecting (1 s, doubling up to 30 s) while the broker is away.
   * Throws std::runtime_error naming host:port when the connection cannot be
   * started at all: a host name that does not resolve, bad options. A broker
   * that refuses or does not answer yet is not an error: connected() says. */
  explicit MqttClient (const MqttOptions & options);
  /* Disconnects (after wait_delivered, when the caller wants that) and stops the thread. */
  ~MqttClient ();
  MqttClient (const MqttClient &) = delete;
  MqttClient & operator= (const MqttClient &) = delete;

  /* Hands one message to the library; it goes out now when connected. QoS 1
   * and 2 messages published while the broker is away are queued and sent after
   * the reconnection; QoS 0 ones are lost then. Returns "" when handed over,
   * else why not (libmosquitto's words). Never blocks on the network. */
  std::string publish (const std::string & topic, const std::string & payload, int qos,
      bool retain);

  /* Waits until every published message is out (QoS 0: written to the socket;
   * QoS 1/2: acknowledged by the broker), at most `timeout`; true when it is. */
  bool wait_delivered (std::chrono::milliseconds timeout);

  bool connected () const { return connected_.load (); }
  uint64_t published () const { return published_.load (); }
  uint64_t delivered () const { return delivered_.load (); }
  std::string where () const;   /* "host:port" */

  /* Why `topic` cannot be published to ("" when it can): empty, wildcards (+, #),
   * invalid UTF-8, too long. */
  static std::string topic_problem (const std::string & topic);

private:
  static void on_connect (struct mosquitto *, void *self, int rc);
  static void on_disconnect (struct mosquitto *, void *self, int rc);
  static void on_publish (struct mosquitto *, void *self, int mid);

  MqttOptions options_;
  struct mosquitto *mosq_ = nullptr;
  std::atomic<bool> connected_ {false};
  std::atomic<uint64_t> published_ {0}, delivered_ {0};
  std::mutex mutex_;
  std::condition_variable cond_;
};

}  // namespace prn
