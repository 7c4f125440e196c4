#include "prnmqtt-client.h"

#include <mosquitto.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace prn {

namespace {

std::string
mosq_error (int rc)
{
  if (rc == MOSQ_ERR_ERRNO)
    return std::strerror (errno);
  if (rc == MOSQ_ERR_EAI)
    return "the host name does not resolve";
  std::string s = mosquitto_strerror (rc);
  while (!s.empty () && s.back () == '.')
    s.pop_back ();
  return s;
}

}  // namespace

MqttClient::MqttClient (const MqttOptions & options) : options_ (options)
{
  mosq_ = mosquitto_new (options_.client_id.empty () ? nullptr : options_.client_id.c_str (),
      true, this);
  if (mosq_ == nullptr)
    throw std::runtime_error ("could not create an MQTT client for " + where () + ": "
        + std::strerror (errno));
  mosquitto_connect_callback_set (mosq_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set (mosq_, &MqttClient::on_disconnect);
  mosquitto_publish_callback_set (mosq_, &MqttClient::on_publish);
  mosquitto_reconnect_delay_set (mosq_, 1, 30, true);
  int rc = MOSQ_ERR_SUCCESS;
  if (!options_.username.empty ())
    rc = mosquitto_username_pw_set (mosq_, options_.username.c_str (),
        options_.password.empty () ? nullptr : options_.password.c_str ());
  /* The loop thread first: it then makes the connection and keeps retrying it
   * while the broker refuses or does not answer (a connect_async before it
   * leaves a refused first attempt unretried, libmosquitto 2.0.11). */
  bool loop_running = false;
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_loop_start (mosq_);
    loop_running = rc == MOSQ_ERR_SUCCESS;
  }
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_connect_async (mosq_, options_.host.c_str (), options_.port,
        options_.keepalive_s);
    /* A broker that is down is retried by the loop thread; only what no retry
     * can mend (a host name that does not resolve, bad options) is an error. */
    if (rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_REFUSED)
      rc = MOSQ_ERR_SUCCESS;
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    const std::string why = mosq_error (rc);
    if (loop_running)
      mosquitto_loop_stop (mosq_, true);
    mosquitto_destroy (mosq_);
    mosq_ = nullptr;
    throw std::runtime_error ("could not connect to the MQTT broker at " + where () + ": " + why);
  }
}

MqttClient::~MqttClient ()
{
  if (mosq_ == nullptr)
    return;
  change_wait (WaitChange::LEAVING_PAUSED);
  const bool was_connected = connected ();
  mosquitto_disconnect (mosq_);
  /* Not connected, the loop thread may sit in a blocking connect() to a host that
   * does not answer (minutes): cancel it instead of waiting for it. */
  mosquitto_loop_stop (mosq_, !was_connected);
  mosquitto_destroy (mosq_);
}

std::string
MqttClient::where () const
{
  return options_.host + ":" + std::to_string (options_.port);
}

std::string
MqttClient::publish (const std::string & topic, const std::string & payload, int qos, bool retain)
{
  uint64_t disconnects_before;
  {
    std::lock_guard<std::mutex> lock (mutex_);
    /* QoS 0 only over a connection (libmosquitto would queue it while connecting
     * and drop it unreported when that fails). */
    if (qos == 0 && !connected_)
      return "not connected to the broker";
    if (in_flight_locked () >= options_.max_in_flight)
      return std::to_string (in_flight_locked ()) + " messages wait for the broker already";
    published_++;
    disconnects_before = disconnects_;
  }
  int mid = 0;
  const int rc = mosquitto_publish (mosq_, &mid, topic.c_str (),
      static_cast<int> (payload.size ()), payload.data (), qos, retain);
  std::lock_guard<std::mutex> lock (mutex_);
  /* QoS 1/2 are queued while disconnected (NO_CONN is then only informative). */
  if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && qos > 0)) {
    if (early_.erase (mid) > 0)
      return "";                /* already written or acknowledged */
    if (qos == 0 && disconnects_ != disconnects_before) {
      lost_++;                  /* the disconnection's cleanup may have taken it */
      maybe_lost_.insert (mid);
      return "";
    }
    in_flight_[mid] = qos;
    return "";
  }
  published_--;
  return mosq_error (rc);
}

void
MqttClient::wait_delivered (std::chrono::milliseconds timeout)
{
  std::unique_lock<std::mutex> lock (mutex_);
  cond_.wait_for (lock, timeout, [this] { return in_flight_locked () == 0 || wait_end_.ended (); });
}

void
MqttClient::change_wait (WaitChange change)
{
  {
    std::lock_guard<std::mutex> lock (mutex_);
    wait_end_.apply (change);
  }
  cond_.notify_all ();
}

MqttClient::Counts
MqttClient::counts () const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return {published_, delivered_, lost_, in_flight_locked ()};
}

bool
MqttClient::connected () const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return connected_;
}

std::string
MqttClient::topic_problem (const std::string & topic)
{
  if (topic.empty ())
    return "expected a topic name, got an empty one";
  if (topic.find_first_of ("+#") != std::string::npos)
    return "expected a topic without the wildcards '+' and '#', got '" + topic + "'";
  if (mosquitto_validate_utf8 (topic.c_str (), static_cast<int> (topic.size ())) != MOSQ_ERR_SUCCESS)
    return "expected a UTF-8 topic name, got '" + topic + "'";
  if (mosquitto_pub_topic_check2 (topic.c_str (), topic.size ()) != MOSQ_ERR_SUCCESS)
    return "expected a topic of at most 65535 bytes, got " + std::to_string (topic.size ());
  return "";
}

void
MqttClient::on_connect (struct mosquitto *, void *self, int rc)
{
  auto *c = static_cast<MqttClient *> (self);
  std::lock_guard<std::mutex> lock (c->mutex_);
  c->connected_ = rc == 0;
}

/* libmosquitto discards the QoS 0 messages still queued when a connection drops
 * (QoS 1/2 ones are sent again after the reconnection): they are lost. */
void
MqttClient::on_disconnect (struct mosquitto *, void *self, int)
{
  auto *c = static_cast<MqttClient *> (self);
  {
    std::lock_guard<std::mutex> lock (c->mutex_);
    c->connected_ = false;
    c->disconnects_++;
    c->maybe_lost_.clear ();    /* from an earlier disconnection: gone for good */
    for (auto it = c->in_flight_.begin (); it != c->in_flight_.end ();) {
      if (it->second == 0) {
        c->lost_++;
        it = c->in_flight_.erase (it);
      } else {
        ++it;
      }
    }
  }
  c->cond_.notify_all ();
}

void
MqttClient::on_publish (struct mosquitto *, void *self, int mid)
{
  auto *c = static_cast<MqttClient *> (self);
  {
    std::lock_guard<std::mutex> lock (c->mutex_);
    c->delivered_++;
    if (c->maybe_lost_.erase (mid) > 0)
      c->lost_--;               /* written after all */
    else if (c->in_flight_.erase (mid) == 0)
      c->early_.insert (mid);   /* before mosquitto_publish returned the id */
  }
  c->cond_.notify_all ();
}

}  // namespace prn
