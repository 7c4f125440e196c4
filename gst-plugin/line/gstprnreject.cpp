/**
 * SECTION:element-prnreject
 * @title: prnreject
 *
 * Turns the anomaly results that `prnanomaly` attaches to each buffer
 * (GstPrnAnomalyMeta) into actuator pulses, timed for when the defect reaches an
 * ejector downstream of the camera line. The element is a passthrough: buffers,
 * caps and events go on unchanged.
 *
 * Every region of a meta (with `trigger=anomalous-buffers`: only the regions of
 * anomalous buffers, or the whole buffer when it has none) asks for a pulse. Web
 * row r passed the camera at running time
 * `t_cam(r) = running_time(PTS) + (r - row_offset) * line_period`, where the line
 * period is the buffer's duration over its rows, else 1 / (framerate * height)
 * from the caps, else the PTS difference to the previous buffer over its rows.
 * The defect reaches the ejector `distance-rows` rows later (`distance-ms` when
 * set), and the pulse starts `lead-ms` before that and lasts `pulse-ms` (with
 * `cover-defect`, at least the time the defect's rows take to pass).
 *
 * Pulses that overlap or come closer than `min-gap-ms` are merged, so a defect
 * reported by several regions or buffers fires once. Pulses are scheduled on the
 * pipeline clock; a pulse whose start has already passed when its detection
 * arrives fires at once, flagged late (and logged with a GST_WARNING): the
 * ejector is too close for the processing latency. A flush cancels the pulses
 * not yet fired; with `drain-on-eos` (the default) EOS waits until every planned
 * pulse has fired and ended.
 *
 * Each fire goes to the `output`s: an element message "prnreject" on the bus
 * (fire-time, due-time, row-offset, rows, x, width, pulse-ms, late, count), a
 * UDP datagram to `host`:`port` and/or a line on stdout, both the JSON object
 * `{"kind":"reject","fire_time":..,"due_time":..,"row_offset":..,"rows":..,
 * "x":..,"width":..,"pulse_ms":..,"late":..,"count":..}`, and a GPIO line
 * (`gpio-chip`, `gpio-line`, libgpiod, active high) that is raised for the pulse.
 * Times are running times in nanoseconds. Outputs are opened in start() (READY to
 * PAUSED); a host that cannot be resolved, a GPIO chip that cannot be opened or
 * output=gpio without libgpiod fail the state change with an error naming the
 * property. See docs/reject.md.
 *
 * ## Example pipeline
 * |[
 * gst-launch-1.0 -m filesrc location=web.mkv ! decodebin ! videoconvert ! \
 *     prnanomaly model=m.prn ! prnreject distance-rows=12000 pulse-ms=40 \
 *     output=message+udp host=10.0.0.7 port=5005 ! fakesink sync=true
 * ]|
 * sends one JSON datagram per defect to the PLC gateway at 10.0.0.7:5005 when the
 * defect reaches the ejector 12000 rows down the web, and prints the bus messages.
 */
#include "gstprnreject.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include <cstdio>
#include <string>
#include <vector>

#include "prnline-common.h"
#include "prnreject-output.h"
#include "prnreject-plan.h"
#include "prnreject-props.h"
#include "prnreject-state.h"
#include "prnreject-scheduler.h"

GST_DEBUG_CATEGORY (gst_prn_reject_debug);
#define GST_CAT_DEFAULT gst_prn_reject_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_prn_reject_parent_class parent_class
G_DEFINE_TYPE (GstPrnReject, gst_prn_reject, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnreject, "prnreject", GST_RANK_NONE, GST_TYPE_PRN_REJECT);

static void
gst_prn_reject_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnReject *self = GST_PRN_REJECT (object);

  GST_OBJECT_LOCK (self);
  const bool ok = prn::reject::set_prop (*self->props, prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_prn_reject_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstPrnReject *self = GST_PRN_REJECT (object);

  GST_OBJECT_LOCK (self);
  const bool ok = prn::reject::get_prop (*self->props, prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static gboolean
gst_prn_reject_start (GstBaseTransform * trans)
{
  GstPrnReject *self = GST_PRN_REJECT (trans);

  if (!prn::reject::open_outputs (self))
    return FALSE;

  self->estimator->reset ();
  self->deferred->clear ();
  self->scheduler->resume ();
  GST_DEBUG_OBJECT (self, "started, outputs 0x%x", self->outputs);
  return TRUE;
}

static gboolean
gst_prn_reject_stop (GstBaseTransform * trans)
{
  GstPrnReject *self = GST_PRN_REJECT (trans);

  self->scheduler->cancel ();
  prn::reject::close_outputs (self);
  self->deferred->clear ();
  return TRUE;
}

static gboolean
gst_prn_reject_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps *)
{
  GstPrnReject *self = GST_PRN_REJECT (trans);
  const GstStructure *s = gst_caps_get_structure (incaps, 0);
  gint height = 0, fps_n = 0, fps_d = 1;

  self->caps_period = prn::LinePeriod ();
  self->caps_height = 0;
  if (s == nullptr)
    return TRUE;
  if (gst_structure_get_int (s, "height", &height) && height > 0)
    self->caps_height = height;
  if (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d) && fps_n > 0 && fps_d > 0
      && height > 0)
    self->caps_period = prn::LinePeriod { static_cast<guint64> (fps_d) * GST_SECOND,
        static_cast<guint64> (fps_n) * static_cast<guint64> (height) };
  return TRUE;
}

static prn::RejectConfig
gst_prn_reject_config (GstPrnReject * self, GstPrnRejectTrigger * trigger)
{
  GST_OBJECT_LOCK (self);
  *trigger = self->props->trigger;
  const prn::RejectConfig cfg = prn::reject::reject_config (*self->props);
  GST_OBJECT_UNLOCK (self);
  return cfg;
}

static GstFlowReturn
gst_prn_reject_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnReject *self = GST_PRN_REJECT (trans);
  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);

  guint rows = meta != nullptr && meta->heatmap_height > 0 ? meta->heatmap_height
      : self->caps_height;
  const prn::LinePeriod period = self->estimator->observe (GST_BUFFER_PTS (buffer),
      GST_BUFFER_DURATION (buffer), rows, self->caps_period);

  GstPrnRejectTrigger trigger;
  const prn::RejectConfig cfg = gst_prn_reject_config (self, &trigger);
  std::vector<std::pair<prn::PulseWindow, prn::RejectRequest>> planned;

  /* Requests of earlier buffers that waited for a line period. */
  const prn::LinePeriod measured = self->estimator->measured ();
  if (!self->deferred->empty () && measured.valid ()) {
    for (const prn::RejectRequest &req : *self->deferred)
      planned.emplace_back (prn::plan_window (req, measured, cfg), req);
    self->deferred->clear ();
  }

  const GstClockTime running_time = meta != nullptr
      ? prn::segment_running_time (trans->segment, GST_BUFFER_PTS (buffer)) : GST_CLOCK_TIME_NONE;
  if (meta != nullptr && !GST_CLOCK_TIME_IS_VALID (running_time))
    GST_DEBUG_OBJECT (self, "buffer without a running time: its detections are ignored");

  std::vector<prn::RejectRequest> requests;
  if (meta != nullptr && GST_CLOCK_TIME_IS_VALID (running_time))
    requests = prn::requests_from_meta (*meta, trigger == GST_PRN_REJECT_TRIGGER_ANOMALOUS_BUFFERS,
        running_time, rows);
  if (!requests.empty () && !period.valid ()) {
    GST_DEBUG_OBJECT (self, "no line period yet: %zu requests wait for the next buffer",
        requests.size ());
    self->deferred->insert (self->deferred->end (), requests.begin (), requests.end ());
  } else {
    for (const prn::RejectRequest &req : requests)
      planned.emplace_back (prn::plan_window (req, period, cfg), req);
  }

  if (!planned.empty ()) {
    const guint late = self->scheduler->add (planned, cfg.min_gap_ns);
    if (late > 0)
      GST_WARNING_OBJECT (self, "%u detections came after their pulse should have "
          "started: increase the ejector distance or reduce the processing latency", late);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_prn_reject_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnReject *self = GST_PRN_REJECT (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      self->scheduler->cancel ();
      break;
    case GST_EVENT_FLUSH_STOP:
      self->estimator->reset ();
      self->deferred->clear ();
      break;
    case GST_EVENT_EOS:{
      if (!self->deferred->empty ())
        GST_WARNING_OBJECT (self, "EOS before a line period was known: %zu detections "
            "dropped (set durations or a framerate on the buffers)", self->deferred->size ());
      self->deferred->clear ();
      GST_OBJECT_LOCK (self);
      const gboolean drain = self->props->drain_on_eos;
      GST_OBJECT_UNLOCK (self);
      if (drain) {
        GST_DEBUG_OBJECT (self, "EOS: waiting for %zu pulses", self->scheduler->pending ());
        if (!self->scheduler->wait_idle ())
          GST_DEBUG_OBJECT (self, "EOS: pulses cancelled");
      }
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstStateChangeReturn
gst_prn_reject_change_state (GstElement * element, GstStateChange transition)
{
  GstPrnReject *self = GST_PRN_REJECT (element);

  switch (transition) {
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      self->scheduler->pause ();
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      self->scheduler->interrupt ();    /* an EOS waiting for pulses lets go */
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:{
      GstClock *clock = gst_element_get_clock (element);
      self->scheduler->play (clock, gst_element_get_base_time (element));
      if (clock != nullptr)
        gst_object_unref (clock);
      break;
    }
    default:
      break;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* A clock set while PLAYING (GstHarness) takes over at once. */
static gboolean
gst_prn_reject_set_clock (GstElement * element, GstClock * clock)
{
  GstPrnReject *self = GST_PRN_REJECT (element);
  const gboolean ret = GST_ELEMENT_CLASS (parent_class)->set_clock (element, clock);

  if (GST_STATE (element) == GST_STATE_PLAYING)
    self->scheduler->play (clock, gst_element_get_base_time (element));
  return ret;
}

static void
gst_prn_reject_finalize (GObject * object)
{
  GstPrnReject *self = GST_PRN_REJECT (object);

  delete self->scheduler;
  delete self->udp;
  delete self->gpio;
  delete self->estimator;
  delete self->deferred;
  g_mutex_clear (&self->output_lock);
  delete self->props;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_reject_class_init (GstPrnRejectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_reject_debug, "prnreject", 0,
      "prnanomaly detections to timed reject pulses");

  gobject_class->set_property = gst_prn_reject_set_property;
  gobject_class->get_property = gst_prn_reject_get_property;
  gobject_class->finalize = gst_prn_reject_finalize;

  prn::reject::install_properties (gobject_class);

  gst_element_class_set_static_metadata (element_class, "PRN reject actuator",
      "Filter/Analyzer/Video", "Fires an ejector (bus message, UDP, stdout, GPIO) when "
      "the defects prnanomaly found reach it", "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_prn_reject_change_state);
  element_class->set_clock = GST_DEBUG_FUNCPTR (gst_prn_reject_set_clock);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_prn_reject_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_prn_reject_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_prn_reject_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_prn_reject_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_prn_reject_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;

  gst_type_mark_as_plugin_api (GST_TYPE_PRN_REJECT_TRIGGER,
      static_cast<GstPluginAPIFlags> (0));
  gst_type_mark_as_plugin_api (GST_TYPE_PRN_REJECT_OUTPUT,
      static_cast<GstPluginAPIFlags> (0));
}

static void
gst_prn_reject_init (GstPrnReject * self)
{
  self->props = new prn::reject::RejectSettings ();

  self->caps_period = prn::LinePeriod ();
  self->caps_height = 0;
  self->estimator = new prn::PeriodEstimator ();
  self->deferred = new std::vector<prn::RejectRequest> ();
  g_mutex_init (&self->output_lock);
  self->outputs = static_cast<GstPrnRejectOutput> (0);
  self->udp = new prn::UdpSender ();
  self->gpio = new prn::GpioLine ();
  self->scheduler = new prn::RejectScheduler (GST_OBJECT (self),
      [self] (const prn::RejectEvent & e) { prn::reject::output_event (self, e); },
      [self] (const prn::RejectEvent & e) { prn::reject::notify_event (self, e); });

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
