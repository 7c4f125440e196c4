#include "prnmqtt-props.h"

#include "prnline-common.h"

namespace prn::mqtt {

void
install_properties (GObjectClass * klass)
{
  const GParamFlags ready = prn::PROP_FLAGS_READY;
  const GParamFlags playing = prn::PROP_FLAGS_PLAYING;
  const GParamFlags read_only = static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  const GParamFlags write_ready = static_cast<GParamFlags> (G_PARAM_WRITABLE
      | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (klass, PROP_HOST,
      g_param_spec_string ("host", "Host", "The MQTT broker's host name or address",
          DEFAULT_PROP_HOST, ready));
  g_object_class_install_property (klass, PROP_PORT,
      g_param_spec_int ("port", "Port", "The MQTT broker's TCP port", 1, 65535,
          DEFAULT_PROP_PORT, ready));
  g_object_class_install_property (klass, PROP_TOPIC,
      g_param_spec_string ("topic", "Topic", "The topic every message is published to "
          "(no wildcards)", DEFAULT_PROP_TOPIC, ready));
  g_object_class_install_property (klass, PROP_WHAT,
      g_param_spec_enum ("what", "What",
          "What a message describes: a region, an anomalous buffer or any buffer with a meta "
          "(the JSON objects of prnjsonlines)", GST_TYPE_PRN_JSON_LINES_WHAT, DEFAULT_PROP_WHAT,
          playing));
  g_object_class_install_property (klass, PROP_QOS,
      g_param_spec_int ("mqtt-qos", "MQTT QoS", "MQTT quality of service: 0 at most once (dropped while "
          "the broker is away), 1 at least once, 2 exactly once (both queued while it is away)",
          0, 2, DEFAULT_PROP_QOS, playing));
  g_object_class_install_property (klass, PROP_RETAIN,
      g_param_spec_boolean ("retain", "Retain", "Ask the broker to keep the last message of "
          "the topic for subscribers that come later", DEFAULT_PROP_RETAIN, playing));
  g_object_class_install_property (klass, PROP_CLIENT_ID,
      g_param_spec_string ("client-id", "Client id", "The MQTT client id (NULL: a random one)",
          nullptr, ready));
  g_object_class_install_property (klass, PROP_USERNAME,
      g_param_spec_string ("username", "User name", "User name for the broker (NULL: none)",
          nullptr, ready));
  g_object_class_install_property (klass, PROP_PASSWORD,
      g_param_spec_string ("password", "Password", "Password for the broker (needs username; "
          "sent in clear text: use it on a trusted network)", nullptr, write_ready));
  g_object_class_install_property (klass, PROP_KEEPALIVE,
      g_param_spec_int ("keepalive", "Keep-alive", "Seconds between pings when idle; the broker "
          "drops the client after 1.5 times this without traffic", 5, 3600, DEFAULT_PROP_KEEPALIVE,
          ready));
  g_object_class_install_property (klass, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush timeout", "Milliseconds EOS waits at most for "
          "the broker to acknowledge the messages published so far", 0, 600000,
          DEFAULT_PROP_FLUSH_TIMEOUT, playing));
  g_object_class_install_property (klass, PROP_MAX_QUEUED,
      g_param_spec_uint ("max-queued", "Max queued", "Messages waiting for the broker at most "
          "(sent, not yet acknowledged, or queued while it is away); beyond, messages are "
          "dropped and counted: bounds the memory of a long outage (MQTT numbers at most 65535 "
          "messages in flight)", 1, 65535,
          DEFAULT_PROP_MAX_QUEUED, ready));
  g_object_class_install_property (klass, PROP_CONNECTED,
      g_param_spec_boolean ("connected", "Connected", "Whether the client is connected to the "
          "broker now", FALSE, read_only));
  g_object_class_install_property (klass, PROP_PUBLISHED,
      g_param_spec_uint64 ("published", "Published", "Messages handed to the MQTT client since "
          "start (kept after stop)", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (klass, PROP_DELIVERED,
      g_param_spec_uint64 ("delivered", "Delivered", "Messages acknowledged by the broker "
          "(QoS 1/2) or written to it (QoS 0) since start", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (klass, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped", "Messages lost since start: refused (QoS 0 "
          "while the broker is away, any beyond max-queued; not in published) and QoS 0 ones a "
          "dropped connection took away (in published)", 0, G_MAXUINT64, 0, read_only));
}

bool
set_prop (MqttSettings & s, guint id, const GValue * value)
{
  switch (id) {
    case PROP_HOST: s.host = prn::optional_string (value); return true;
    case PROP_PORT: s.port = g_value_get_int (value); return true;
    case PROP_TOPIC: s.topic = prn::optional_string (value); return true;
    case PROP_WHAT: s.what = static_cast<GstPrnJsonLinesWhat> (g_value_get_enum (value)); return true;
    case PROP_QOS: s.qos = g_value_get_int (value); return true;
    case PROP_RETAIN: s.retain = g_value_get_boolean (value); return true;
    case PROP_CLIENT_ID: s.client_id = prn::optional_string (value); return true;
    case PROP_USERNAME: s.username = prn::optional_string (value); return true;
    case PROP_PASSWORD: s.password = prn::optional_string (value); return true;
    case PROP_KEEPALIVE: s.keepalive = g_value_get_int (value); return true;
    case PROP_FLUSH_TIMEOUT: s.flush_timeout = g_value_get_uint (value); return true;
    case PROP_MAX_QUEUED: s.max_queued = g_value_get_uint (value); return true;
    default: return false;
  }
}

bool
get_prop (const MqttSettings & s, guint id, GValue * value)
{
  switch (id) {
    case PROP_HOST: prn::set_optional_string (value, s.host); return true;
    case PROP_PORT: g_value_set_int (value, s.port); return true;
    case PROP_TOPIC: prn::set_optional_string (value, s.topic); return true;
    case PROP_WHAT: g_value_set_enum (value, s.what); return true;
    case PROP_QOS: g_value_set_int (value, s.qos); return true;
    case PROP_RETAIN: g_value_set_boolean (value, s.retain); return true;
    case PROP_CLIENT_ID: prn::set_optional_string (value, s.client_id); return true;
    case PROP_USERNAME: prn::set_optional_string (value, s.username); return true;
    case PROP_KEEPALIVE: g_value_set_int (value, s.keepalive); return true;
    case PROP_FLUSH_TIMEOUT: g_value_set_uint (value, s.flush_timeout); return true;
    case PROP_MAX_QUEUED: g_value_set_uint (value, s.max_queued); return true;
    default: return false;
  }
}

}  // namespace prn::mqtt
