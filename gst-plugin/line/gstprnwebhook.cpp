/**
 * SECTION:element-prnwebhook
 * @title: prnwebhook
 *
 * POSTs the anomaly results that `prnanomaly` attaches to each buffer
 * (GstPrnAnomalyMeta) to an HTTP(S) endpoint, for a plant's web services,
 * ticketing or chat hooks: one request per region (or per buffer), its body the
 * JSON object of a `prnjsonlines` line (`what` chooses, with the same values),
 * `Content-Type: application/json`, plus one optional `header` (an
 * `Authorization` line, say). The element is a passthrough and never holds the
 * stream up: objects go into a queue (at most `max-queued`; beyond, dropped and
 * counted) that a worker thread sends in order, one request at a time.
 *
 * A request that gets no answer within `timeout` ms, or an answer other than
 * 2xx, is tried `retries` more times (0.2 s, 0.4 s, ... apart); then the object
 * is given up and counted in `failed`, and the first failure after a success
 * posts a warning with the reason. `posted`, `failed` and `dropped` count the
 * objects answered 2xx, given up, and never sent.
 *
 * A `location` that is not an http:// or https:// URL, or a `header` that is not
 * "Name: value", fails the start (READY to PAUSED) with a RESOURCE error naming
 * it. A server that is down at start is not an error: requests fail and are
 * counted until it is back.
 *
 * At EOS the element waits up to `flush-timeout` ms until the queue is sent, and
 * posts an element message "prnwebhook" with `posted`, `failed`, `dropped` and
 * `waiting` (`gst-launch-1.0 -m` prints it), with a warning when some are still
 * waiting. A flush or a stop ends the wait; a stop aborts the request in progress
 * (within about a second: libcurl checks between its progress reports) and counts
 * what is still queued as dropped. The counts of a run stay readable after it stops.
 *
 * ## Example pipeline
 * |[
 * gst-launch-1.0 aravissrc camera-name=192.168.1.20 ! video/x-raw,format=GRAY8,width=2048,height=64 \
 *     ! queue ! prnanomaly model=line7.prn \
 *     ! prnwebhook location=https://mes.plant/api/defects header="Authorization: Bearer abc" \
 *     ! fakesink
 * ]|
 * POSTs one JSON object per anomalous region to https://mes.plant/api/defects.
 */
#include "gstprnwebhook.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include <exception>
#include <string>

#include "prnjson.h"
#include "prnline-common.h"
#include "prnwebhook-props.h"
#include "prnwebhook-sender.h"

GST_DEBUG_CATEGORY_STATIC (gst_prn_webhook_debug);
#define GST_CAT_DEFAULT gst_prn_webhook_debug

using namespace prn::webhook;

struct _GstPrnWebhook {
  GstBaseTransform parent;

  WebhookSettings *settings;    /* under the object lock; from _init to finalize */
  prn::WebhookSender *sender;   /* the pointer under the object lock; from start() to stop() */
  prn::JobCounts last;          /* under the object lock: the counts at the last stop() */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_prn_webhook_parent_class parent_class
G_DEFINE_TYPE (GstPrnWebhook, gst_prn_webhook, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnwebhook, "prnwebhook", GST_RANK_NONE, GST_TYPE_PRN_WEBHOOK);

static void
gst_prn_webhook_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (object);

  GST_OBJECT_LOCK (self);
  if (!set_prop (*self->settings, prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_prn_webhook_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (object);

  GST_OBJECT_LOCK (self);
  const prn::JobCounts c = self->sender != nullptr ? self->sender->counts () : self->last;
  switch (prop_id) {
    case PROP_POSTED:
      g_value_set_uint64 (value, c.done);
      break;
    case PROP_FAILED:
      g_value_set_uint64 (value, c.failed);
      break;
    case PROP_DROPPED:
      g_value_set_uint64 (value, c.dropped);
      break;
    default:
      if (!get_prop (*self->settings, prop_id, value))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_prn_webhook_start (GstBaseTransform * trans)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (trans);

  GST_OBJECT_LOCK (self);
  const WebhookSettings s = *self->settings;
  GST_OBJECT_UNLOCK (self);

  if (!s.location) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No webhook URL given."),
        ("property location: expected an http:// or https:// URL, got none"));
    return FALSE;
  }
  prn::WebhookOptions o;
  o.url = *s.location;
  if (s.header)
    o.headers.push_back (*s.header);
  o.timeout_ms = s.timeout;
  o.retries = static_cast<int> (s.retries);
  o.max_queued = s.max_queued;
  /* The sender checks these too; here they are named by their property. */
  std::string problem = prn::WebhookSender::url_problem (o.url);
  if (!problem.empty ())
    problem = "property location: " + problem;
  else if (s.header && !(problem = prn::WebhookSender::header_problem (*s.header)).empty ())
    problem = "property header: " + problem;
  if (!problem.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid webhook settings."), ("%s",
            problem.c_str ()));
    return FALSE;
  }
  prn::WebhookSender *sender = nullptr;
  try {
    sender = new prn::WebhookSender (o, [self, url = o.url] (const std::string & why) {
          GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
              ("Could not POST detections to %s: %s.", url.c_str (), why.c_str ()),
              ("given up after every retry; counted in the property 'failed'"));
        });
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid webhook settings."), ("%s", e.what ()));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "posting to %s", o.url.c_str ());
  GST_OBJECT_LOCK (self);
  self->sender = sender;
  self->last = {};
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_prn_webhook_stop (GstBaseTransform * trans)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (trans);

  GST_OBJECT_LOCK (self);
  prn::WebhookSender *sender = self->sender;
  GST_OBJECT_UNLOCK (self);
  if (sender == nullptr)
    return TRUE;
  sender->stop ();              /* aborts the request in progress, joins the worker */
  GST_OBJECT_LOCK (self);
  self->last = sender->counts (); /* final (the queue counted as dropped): readable after stop */
  self->sender = nullptr;
  GST_OBJECT_UNLOCK (self);
  delete sender;
  return TRUE;
}

static GstFlowReturn
gst_prn_webhook_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (trans);
  prn::WebhookSender *sender = self->sender; /* set before streaming starts, cleared after */

  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);
  if (meta == nullptr || sender == nullptr)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  const GstPrnJsonLinesWhat what = self->settings->what;
  GST_OBJECT_UNLOCK (self);

  const prn::JsonTimes times = prn::json_times (trans->segment, buffer);
  for (std::string &payload : prn::meta_json (meta, static_cast<prn::JsonWhat> (what), times))
    if (!sender->post (std::move (payload)))
      GST_DEBUG_OBJECT (self, "queue full: object dropped");
  return GST_FLOW_OK;
}

/* At EOS the queue is sent, within flush-timeout; then a "prnwebhook" element
 * message gives the counts. A flush ends the wait. */
static gboolean
gst_prn_webhook_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (trans);
  prn::WebhookSender *sender = self->sender;

  if (const auto change = prn::flush_wait_change (event)) {
    prn::change_eos_wait (GST_OBJECT (self), *change, [self] { return self->sender; });
  } else if (sender != nullptr && GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_OBJECT_LOCK (self);
    const guint timeout_ms = self->settings->flush_timeout;
    GST_OBJECT_UNLOCK (self);
    prn::wait_for_worker_at_eos (GST_ELEMENT (self), *sender, timeout_ms, "prnwebhook", "posted",
        "detections were not sent");
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* PAUSED to READY: an EOS waiting for the queue holds the stream lock that the
 * pads' deactivation needs; end the wait first. */
static GstStateChangeReturn
gst_prn_webhook_change_state (GstElement * element, GstStateChange transition)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (element);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    prn::change_eos_wait (GST_OBJECT (self), prn::WaitChange::LEAVING_PAUSED,
        [self] { return self->sender; });
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_prn_webhook_finalize (GObject * object)
{
  GstPrnWebhook *self = GST_PRN_WEBHOOK (object);

  delete self->sender;          /* stop() has deleted it; only for an element never stopped */
  delete self->settings;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_webhook_class_init (GstPrnWebhookClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_webhook_debug, "prnwebhook", 0,
      "prnanomaly results POSTed to a URL");

  gobject_class->set_property = gst_prn_webhook_set_property;
  gobject_class->get_property = gst_prn_webhook_get_property;
  gobject_class->finalize = gst_prn_webhook_finalize;
  install_properties (gobject_class);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_prn_webhook_change_state);

  gst_element_class_set_static_metadata (element_class, "PRN anomaly webhook",
      "Filter/Analyzer/Video", "POSTs prnanomaly results as JSON to an HTTP(S) URL, one "
      "request per region or buffer", "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_prn_webhook_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_prn_webhook_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_prn_webhook_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_prn_webhook_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;
}

static void
gst_prn_webhook_init (GstPrnWebhook * self)
{
  self->settings = new WebhookSettings ();
  self->sender = nullptr;
  self->last = {};

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
