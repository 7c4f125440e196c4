/**
 * SECTION:element-prnmqtt
 * @title: prnmqtt
 *
 * Publishes the anomaly results that `prnanomaly` attaches to each buffer
 * (GstPrnAnomalyMeta) to an MQTT broker, for the plant's MES, SCADA or dashboards:
 * one message per region (or per buffer), its payload the same JSON object as a
 * line of `prnjsonlines` (`what` chooses, with the same values). The element is a
 * passthrough: buffers, caps and events go on unchanged, and it never holds the
 * stream up: messages are handed to libmosquitto, whose own thread sends them.
 *
 * The connection is made in start() (READY to PAUSED) and kept: after a broker
 * outage the client reconnects (after 1 s, doubling up to 30 s). Messages of
 * `qos` 1 or 2 (at least / exactly once) published while the broker is away are
 * queued and sent after the reconnection; with `qos` 0 they are dropped, counted
 * in `dropped`, and the first drop of an outage posts a warning. A broker that is
 * down when the pipeline starts is not an error (the client keeps trying; see
 * `connected`), nor is one that refuses the credentials (`connected` stays
 * false); a host name that does not resolve, an invalid `topic` or a `password`
 * without a `username` are: the state change fails with a RESOURCE error naming
 * the broker, the topic or the property.
 *
 * At EOS the element waits up to `flush-timeout` ms until the broker has
 * acknowledged every message (QoS 1/2) or every message is written (QoS 0), and
 * warns with the count of those that were not.
 *
 * `published`, `delivered` and `dropped` count the messages handed to the client,
 * those acknowledged (or written, QoS 0) and those lost; `connected` says whether
 * the client is connected now.
 *
 * ## Example pipeline
 * |[
 * mosquitto_sub -h broker.local -t 'line7/defects' &
 * gst-launch-1.0 aravissrc camera-name=192.168.1.20 ! video/x-raw,format=GRAY8,width=2048,height=64 \
 *     ! queue ! prnanomaly model=line7.prn ! prnmqtt host=broker.local topic=line7/defects \
 *     ! fakesink
 * ]|
 * publishes one JSON message per anomalous region to the topic `line7/defects`.
 */
#include "gstprnmqtt.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include <chrono>
#include <exception>
#include <string>

#include "gstprnjsonlines.h"
#include "prnjson.h"
#include "prnline-common.h"
#include "prnmqtt-client.h"

GST_DEBUG_CATEGORY_STATIC (gst_prn_mqtt_debug);
#define GST_CAT_DEFAULT gst_prn_mqtt_debug

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TOPIC,
  PROP_WHAT,
  PROP_QOS,
  PROP_RETAIN,
  PROP_CLIENT_ID,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_KEEPALIVE,
  PROP_FLUSH_TIMEOUT,
  PROP_CONNECTED,
  PROP_PUBLISHED,
  PROP_DELIVERED,
  PROP_DROPPED,
};

#define DEFAULT_PROP_HOST "localhost"
#define DEFAULT_PROP_PORT 1883
#define DEFAULT_PROP_TOPIC "prnanomaly/detections"
#define DEFAULT_PROP_WHAT GST_PRN_JSON_LINES_WHAT_REGIONS
#define DEFAULT_PROP_QOS 1
#define DEFAULT_PROP_RETAIN FALSE
#define DEFAULT_PROP_CLIENT_ID nullptr
#define DEFAULT_PROP_USERNAME nullptr
#define DEFAULT_PROP_PASSWORD nullptr
#define DEFAULT_PROP_KEEPALIVE 30
#define DEFAULT_PROP_FLUSH_TIMEOUT 5000

struct _GstPrnMqtt {
  GstBaseTransform parent;

  /* Properties, under the object lock. */
  gchar *host, *topic, *client_id, *username, *password;
  gint port, qos, keepalive;
  guint flush_timeout;
  GstPrnJsonLinesWhat what;
  gboolean retain;

  /* Created in start(), deleted in stop(); the pointer under the object lock. */
  prn::MqttClient *client;
  std::string *topic_in_use;    /* the topic start() checked */
  guint64 dropped;              /* under the object lock */
  gboolean in_outage;           /* streaming thread only: a drop was reported */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_prn_mqtt_parent_class parent_class
G_DEFINE_TYPE (GstPrnMqtt, gst_prn_mqtt, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnmqtt, "prnmqtt", GST_RANK_NONE, GST_TYPE_PRN_MQTT);

static void
replace_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_prn_mqtt_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnMqtt *self = GST_PRN_MQTT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HOST:
      replace_string (&self->host, value);
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_TOPIC:
      replace_string (&self->topic, value);
      break;
    case PROP_WHAT:
      self->what = static_cast<GstPrnJsonLinesWhat> (g_value_get_enum (value));
      break;
    case PROP_QOS:
      self->qos = g_value_get_int (value);
      break;
    case PROP_RETAIN:
      self->retain = g_value_get_boolean (value);
      break;
    case PROP_CLIENT_ID:
      replace_string (&self->client_id, value);
      break;
    case PROP_USERNAME:
      replace_string (&self->username, value);
      break;
    case PROP_PASSWORD:
      replace_string (&self->password, value);
      break;
    case PROP_KEEPALIVE:
      self->keepalive = g_value_get_int (value);
      break;
    case PROP_FLUSH_TIMEOUT:
      self->flush_timeout = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_prn_mqtt_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstPrnMqtt *self = GST_PRN_MQTT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_TOPIC:
      g_value_set_string (value, self->topic);
      break;
    case PROP_WHAT:
      g_value_set_enum (value, self->what);
      break;
    case PROP_QOS:
      g_value_set_int (value, self->qos);
      break;
    case PROP_RETAIN:
      g_value_set_boolean (value, self->retain);
      break;
    case PROP_CLIENT_ID:
      g_value_set_string (value, self->client_id);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_KEEPALIVE:
      g_value_set_int (value, self->keepalive);
      break;
    case PROP_FLUSH_TIMEOUT:
      g_value_set_uint (value, self->flush_timeout);
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->client != nullptr && self->client->connected ());
      break;
    case PROP_PUBLISHED:
      g_value_set_uint64 (value, self->client != nullptr ? self->client->published () : 0);
      break;
    case PROP_DELIVERED:
      g_value_set_uint64 (value, self->client != nullptr ? self->client->delivered () : 0);
      break;
    case PROP_DROPPED:
      g_value_set_uint64 (value, self->dropped);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_prn_mqtt_start (GstBaseTransform * trans)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);

  prn::MqttOptions o;
  GST_OBJECT_LOCK (self);
  o.host = self->host != nullptr ? self->host : "";
  o.port = self->port;
  o.client_id = self->client_id != nullptr ? self->client_id : "";
  o.username = self->username != nullptr ? self->username : "";
  o.password = self->password != nullptr ? self->password : "";
  o.keepalive_s = self->keepalive;
  const std::string topic = self->topic != nullptr ? self->topic : "";
  self->dropped = 0;
  GST_OBJECT_UNLOCK (self);
  self->in_outage = FALSE;

  if (o.host.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No MQTT broker host given."),
        ("property host: expected a host name or address, got an empty one"));
    return FALSE;
  }
  const std::string problem = prn::MqttClient::topic_problem (topic);
  if (!problem.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid MQTT topic \"%s\".", topic.c_str ()),
        ("property topic: %s", problem.c_str ()));
    return FALSE;
  }
  if (o.username.empty () && !o.password.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("An MQTT password needs a user name."),
        ("property password is set, property username is not"));
    return FALSE;
  }
  prn::MqttClient *client = nullptr;
  try {
    client = new prn::MqttClient (o);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not connect to the MQTT broker at %s:%d.", o.host.c_str (), o.port),
        ("%s", e.what ()));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "publishing to %s on %s", topic.c_str (), client->where ().c_str ());
  GST_OBJECT_LOCK (self);
  self->client = client;
  self->topic_in_use = new std::string (topic);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_prn_mqtt_stop (GstBaseTransform * trans)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);

  GST_OBJECT_LOCK (self);
  prn::MqttClient *client = self->client;
  std::string *topic = self->topic_in_use;
  self->client = nullptr;
  self->topic_in_use = nullptr;
  GST_OBJECT_UNLOCK (self);
  delete client;                /* disconnects; waits for libmosquitto's thread */
  delete topic;
  return TRUE;
}

static GstFlowReturn
gst_prn_mqtt_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);

  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);
  if (meta == nullptr || self->client == nullptr)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  const GstPrnJsonLinesWhat what = self->what;
  const int qos = self->qos;
  const bool retain = self->retain;
  GST_OBJECT_UNLOCK (self);

  prn::JsonTimes times;
  times.pts = GST_BUFFER_PTS (buffer);
  times.duration = GST_BUFFER_DURATION (buffer);
  times.running_time = prn::segment_running_time (trans->segment, times.pts);

  for (const std::string &payload : prn::meta_json (meta, static_cast<prn::JsonWhat> (what), times)) {
    const std::string why = self->client->publish (*self->topic_in_use, payload, qos, retain);
    if (why.empty ()) {
      self->in_outage = FALSE;
      continue;
    }
    GST_OBJECT_LOCK (self);
    self->dropped++;
    GST_OBJECT_UNLOCK (self);
    if (!self->in_outage) {
      self->in_outage = TRUE;
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Dropping MQTT messages for %s: %s.", self->client->where ().c_str (), why.c_str ()),
          ("qos %d; messages are counted in the property 'dropped'", qos));
    }
  }
  return GST_FLOW_OK;
}

/* At EOS the messages published so far reach the broker, within flush-timeout. */
static gboolean
gst_prn_mqtt_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->client != nullptr) {
    GST_OBJECT_LOCK (self);
    const guint timeout_ms = self->flush_timeout;
    GST_OBJECT_UNLOCK (self);
    if (!self->client->wait_delivered (std::chrono::milliseconds (timeout_ms))) {
      const guint64 missing = self->client->published () - self->client->delivered ();
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("%" G_GUINT64_FORMAT " MQTT messages were not delivered to %s within %u ms.", missing,
              self->client->where ().c_str (), timeout_ms),
          ("connected: %s", self->client->connected () ? "yes" : "no"));
    }
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static void
gst_prn_mqtt_finalize (GObject * object)
{
  GstPrnMqtt *self = GST_PRN_MQTT (object);

  /* stop() has deleted the client; this is only for an element never stopped. */
  delete self->client;
  delete self->topic_in_use;
  g_free (self->host);
  g_free (self->topic);
  g_free (self->client_id);
  g_free (self->username);
  g_free (self->password);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_mqtt_class_init (GstPrnMqttClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_mqtt_debug, "prnmqtt", 0, "prnanomaly results to MQTT");

  gobject_class->set_property = gst_prn_mqtt_set_property;
  gobject_class->get_property = gst_prn_mqtt_get_property;
  gobject_class->finalize = gst_prn_mqtt_finalize;

  const GParamFlags ready = prn::PROP_FLAGS_READY;
  const GParamFlags playing = prn::PROP_FLAGS_PLAYING;
  const GParamFlags read_only = static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  const GParamFlags write_ready = static_cast<GParamFlags> (G_PARAM_WRITABLE
      | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (gobject_class, PROP_HOST,
      g_param_spec_string ("host", "Host", "The MQTT broker's host name or address",
          DEFAULT_PROP_HOST, ready));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port", "The MQTT broker's TCP port", 1, 65535,
          DEFAULT_PROP_PORT, ready));
  g_object_class_install_property (gobject_class, PROP_TOPIC,
      g_param_spec_string ("topic", "Topic", "The topic every message is published to "
          "(no wildcards)", DEFAULT_PROP_TOPIC, ready));
  g_object_class_install_property (gobject_class, PROP_WHAT,
      g_param_spec_enum ("what", "What",
          "What a message describes: a region, an anomalous buffer or any buffer with a meta "
          "(the JSON objects of prnjsonlines)", GST_TYPE_PRN_JSON_LINES_WHAT, DEFAULT_PROP_WHAT,
          playing));
  g_object_class_install_property (gobject_class, PROP_QOS,
      g_param_spec_int ("qos", "QoS", "MQTT quality of service: 0 at most once (dropped while "
          "the broker is away), 1 at least once, 2 exactly once (both queued while it is away)",
          0, 2, DEFAULT_PROP_QOS, playing));
  g_object_class_install_property (gobject_class, PROP_RETAIN,
      g_param_spec_boolean ("retain", "Retain", "Ask the broker to keep the last message of "
          "the topic for subscribers that come later", DEFAULT_PROP_RETAIN, playing));
  g_object_class_install_property (gobject_class, PROP_CLIENT_ID,
      g_param_spec_string ("client-id", "Client id", "The MQTT client id (NULL: a random one)",
          DEFAULT_PROP_CLIENT_ID, ready));
  g_object_class_install_property (gobject_class, PROP_USERNAME,
      g_param_spec_string ("username", "User name", "User name for the broker (NULL: none)",
          DEFAULT_PROP_USERNAME, ready));
  g_object_class_install_property (gobject_class, PROP_PASSWORD,
      g_param_spec_string ("password", "Password", "Password for the broker (needs username; "
          "sent in clear text: use it on a trusted network)", DEFAULT_PROP_PASSWORD,
          write_ready));
  g_object_class_install_property (gobject_class, PROP_KEEPALIVE,
      g_param_spec_int ("keepalive", "Keep-alive", "Seconds between pings when idle; the broker "
          "drops the client after 1.5 times this without traffic", 5, 3600, DEFAULT_PROP_KEEPALIVE,
          ready));
  g_object_class_install_property (gobject_class, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush timeout", "Milliseconds EOS waits at most for "
          "the broker to acknowledge the messages published so far", 0, 600000,
          DEFAULT_PROP_FLUSH_TIMEOUT, playing));
  g_object_class_install_property (gobject_class, PROP_CONNECTED,
      g_param_spec_boolean ("connected", "Connected", "Whether the client is connected to the "
          "broker now", FALSE, read_only));
  g_object_class_install_property (gobject_class, PROP_PUBLISHED,
      g_param_spec_uint64 ("published", "Published", "Messages handed to the MQTT client since "
          "start", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (gobject_class, PROP_DELIVERED,
      g_param_spec_uint64 ("delivered", "Delivered", "Messages acknowledged by the broker "
          "(QoS 1/2) or written to it (QoS 0) since start", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (gobject_class, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped", "Messages lost since start (QoS 0 while the "
          "broker is away, or refused by the client)", 0, G_MAXUINT64, 0, read_only));

  gst_element_class_set_static_metadata (element_class, "PRN anomaly MQTT publisher",
      "Filter/Analyzer/Video", "Publishes prnanomaly results to an MQTT broker as JSON, one "
      "message per region or buffer", "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_prn_mqtt_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_prn_mqtt_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_prn_mqtt_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_prn_mqtt_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;
}

static void
gst_prn_mqtt_init (GstPrnMqtt * self)
{
  self->host = g_strdup (DEFAULT_PROP_HOST);
  self->port = DEFAULT_PROP_PORT;
  self->topic = g_strdup (DEFAULT_PROP_TOPIC);
  self->what = DEFAULT_PROP_WHAT;
  self->qos = DEFAULT_PROP_QOS;
  self->retain = DEFAULT_PROP_RETAIN;
  self->client_id = g_strdup (DEFAULT_PROP_CLIENT_ID);
  self->username = g_strdup (DEFAULT_PROP_USERNAME);
  self->password = g_strdup (DEFAULT_PROP_PASSWORD);
  self->keepalive = DEFAULT_PROP_KEEPALIVE;
  self->flush_timeout = DEFAULT_PROP_FLUSH_TIMEOUT;
  self->client = nullptr;
  self->topic_in_use = nullptr;
  self->dropped = 0;
  self->in_outage = FALSE;

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
