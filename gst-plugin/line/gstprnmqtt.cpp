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
 * The connection is made in start() (READY to PAUSED) and kept by libmosquitto's
 * own thread, which reconnects after a broker outage (after 1 s, then 4, 9, 16,
 * 25 and every 30 s). Messages of `mqtt-qos` 1 or 2 (at least / exactly once)
 * published while the broker is away are queued and sent after the
 * reconnection, up to `max-queued` messages waiting; with `mqtt-qos` 0 they are
 * dropped. Dropped messages are counted in `dropped`, and the first drop of an
 * outage posts a warning. A broker that is down when the pipeline starts is not
 * an error (the client keeps trying; see `connected`), nor is one that refuses
 * the credentials (`connected` stays false); a host name that does not resolve,
 * an invalid `topic` or a `password` without a `username` are: the state change
 * fails with a RESOURCE error naming the broker, the topic or the property.
 *
 * At EOS the element waits up to `flush-timeout` ms until the broker has
 * acknowledged every message (QoS 1/2) or every message is written (QoS 0),
 * warns with the count of those that were not, and posts an element message
 * "prnmqtt" with the counts (`published`, `delivered`, `dropped`, `waiting`; seen
 * with `gst-launch-1.0 -m`). A flush or a stop ends the wait at once.
 *
 * `published` counts the messages handed to the client, `delivered` those
 * acknowledged (or written, QoS 0), `dropped` those lost: refused ones (QoS 0
 * while the broker is away, any beyond `max-queued`; never published) and QoS 0
 * ones a dropped connection took away (published), so published + refused =
 * delivered + dropped + waiting. `connected` says whether the client is
 * connected now. Applications read them as properties (they send no notify
 * signals); the counts of a run stay readable after it stops.
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
#include <utility>

#include "prnjson.h"
#include "prnline-common.h"
#include "prnmqtt-client.h"
#include "prnmqtt-props.h"

GST_DEBUG_CATEGORY_STATIC (gst_prn_mqtt_debug);
#define GST_CAT_DEFAULT gst_prn_mqtt_debug

using namespace prn::mqtt;

namespace {

/* What the element holds while started: the client and the topic start() checked. */
struct MqttState {
  MqttState (const prn::MqttOptions & options, std::string t) : client (options), topic (std::move (t)) {}
  prn::MqttClient client;
  std::string topic;
  bool in_outage = false;       /* streaming thread only: a drop was reported */
};

}  // namespace

struct _GstPrnMqtt {
  GstBaseTransform parent;

  MqttSettings *settings;       /* under the object lock; from _init to finalize */
  MqttState *state;             /* the pointer under the object lock; from start() to stop() */
  guint64 refused;              /* under the object lock: publish() said no */
  prn::MqttClient::Counts last; /* under the object lock: the counts at the last stop() */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_prn_mqtt_parent_class parent_class
G_DEFINE_TYPE (GstPrnMqtt, gst_prn_mqtt, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnmqtt, "prnmqtt", GST_RANK_NONE, GST_TYPE_PRN_MQTT);

static void
gst_prn_mqtt_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnMqtt *self = GST_PRN_MQTT (object);

  GST_OBJECT_LOCK (self);
  if (!set_prop (*self->settings, prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_prn_mqtt_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstPrnMqtt *self = GST_PRN_MQTT (object);

  GST_OBJECT_LOCK (self);
  const MqttState *st = self->state;
  const prn::MqttClient::Counts c = st != nullptr ? st->client.counts () : self->last;
  switch (prop_id) {
    case PROP_CONNECTED:
      g_value_set_boolean (value, st != nullptr && st->client.connected ());
      break;
    case PROP_PUBLISHED:
      g_value_set_uint64 (value, c.published);
      break;
    case PROP_DELIVERED:
      g_value_set_uint64 (value, c.delivered);
      break;
    case PROP_DROPPED:
      g_value_set_uint64 (value, self->refused + c.lost);
      break;
    default:
      if (!get_prop (*self->settings, prop_id, value))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_prn_mqtt_start (GstBaseTransform * trans)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);

  GST_OBJECT_LOCK (self);
  const MqttSettings s = *self->settings;
  self->refused = 0;
  self->last = {};
  GST_OBJECT_UNLOCK (self);

  prn::MqttOptions o;
  o.host = s.host.value_or ("");
  o.port = s.port;
  o.client_id = s.client_id.value_or ("");
  o.username = s.username.value_or ("");
  o.password = s.password.value_or ("");
  o.keepalive_s = s.keepalive;
  o.max_in_flight = s.max_queued;
  const std::string topic = s.topic.value_or ("");

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
  MqttState *state = nullptr;
  try {
    state = new MqttState (o, topic);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not connect to the MQTT broker at %s:%d.", o.host.c_str (), o.port),
        ("%s", e.what ()));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "publishing to %s on %s", topic.c_str (), state->client.where ().c_str ());
  GST_OBJECT_LOCK (self);
  self->state = state;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_prn_mqtt_stop (GstBaseTransform * trans)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);

  GST_OBJECT_LOCK (self);
  MqttState *state = self->state;
  self->state = nullptr;
  if (state != nullptr)
    self->last = state->client.counts ();  /* the counters stay readable after stop */
  GST_OBJECT_UNLOCK (self);
  delete state;                 /* disconnects; waits for libmosquitto's thread */
  return TRUE;
}

static GstFlowReturn
gst_prn_mqtt_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);
  MqttState *st = self->state;  /* set before streaming starts, cleared after it stops */

  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);
  if (meta == nullptr || st == nullptr)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  const GstPrnJsonLinesWhat what = self->settings->what;
  const int qos = self->settings->qos;
  const bool retain = self->settings->retain;
  GST_OBJECT_UNLOCK (self);

  const prn::JsonTimes times = prn::json_times (trans->segment, buffer);

  for (const std::string &payload : prn::meta_json (meta, static_cast<prn::JsonWhat> (what), times)) {
    const std::string why = st->client.publish (st->topic, payload, qos, retain);
    if (why.empty ()) {
      st->in_outage = false;
      continue;
    }
    GST_OBJECT_LOCK (self);
    self->refused++;
    GST_OBJECT_UNLOCK (self);
    if (!st->in_outage) {
      st->in_outage = true;
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Dropping MQTT messages for %s: %s.", st->client.where ().c_str (), why.c_str ()),
          ("mqtt-qos %d; messages are counted in the property 'dropped'", qos));
    }
  }
  return GST_FLOW_OK;
}

/* At EOS the messages published so far reach the broker, within flush-timeout;
 * then a "prnmqtt" element message gives the counts. A flush ends the wait. */
static gboolean
gst_prn_mqtt_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnMqtt *self = GST_PRN_MQTT (trans);
  MqttState *st = self->state;

  if (const auto change = prn::flush_wait_change (event)) {
    prn::change_eos_wait (GST_OBJECT (self), *change,
        [self] { return self->state != nullptr ? &self->state->client : nullptr; });
  } else if (st != nullptr && GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_OBJECT_LOCK (self);
    const guint timeout_ms = self->settings->flush_timeout;
    GST_OBJECT_UNLOCK (self);
    st->client.wait_delivered (std::chrono::milliseconds (timeout_ms));
    GST_OBJECT_LOCK (self);
    const prn::MqttClient::Counts c = st->client.counts ();
    const guint64 dropped = self->refused + c.lost;
    GST_OBJECT_UNLOCK (self);
    if (c.in_flight > 0) {
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("%" G_GUINT64_FORMAT " MQTT messages were not delivered to %s within %u ms.",
              c.in_flight, st->client.where ().c_str (), timeout_ms),
          ("connected: %s", st->client.connected () ? "yes" : "no"));
    }
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("prnmqtt", "published", G_TYPE_UINT64, c.published, "delivered",
                G_TYPE_UINT64, c.delivered, "dropped", G_TYPE_UINT64, dropped, "waiting",
                G_TYPE_UINT64, c.in_flight, NULL)));
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* PAUSED to READY: an EOS waiting for the broker holds the stream lock that the
 * pads' deactivation needs; end the wait first. */
static GstStateChangeReturn
gst_prn_mqtt_change_state (GstElement * element, GstStateChange transition)
{
  GstPrnMqtt *self = GST_PRN_MQTT (element);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    prn::change_eos_wait (GST_OBJECT (self), prn::WaitChange::LEAVING_PAUSED,
        [self] { return self->state != nullptr ? &self->state->client : nullptr; });
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_prn_mqtt_finalize (GObject * object)
{
  GstPrnMqtt *self = GST_PRN_MQTT (object);

  delete self->state;           /* stop() has deleted it; only for an element never stopped */
  delete self->settings;
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
  install_properties (gobject_class);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_prn_mqtt_change_state);

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
  self->settings = new MqttSettings ();
  self->state = nullptr;
  self->refused = 0;
  self->last = {};

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
