/**
 * SECTION:element-prnanomaly
 *
 * Scores a line-camera (or area-camera) video stream with a Prototypical
 * Residual Network bundle written by `prn-train`, and attaches a
 * #GstPrnAnomalyMeta to every buffer: the buffer's score and anomalous flag, the
 * heatmap of its rows, the anomalous regions (boxes), its row offset in the web
 * and the model id. Anomalous regions are also posted as element messages.
 *
 * In `mode=lines` (the default) consecutive buffers are one continuous web: the
 * element keeps a rolling window of rows and scores square tiles of
 * `tile-size` camera pixels that overlap by `tile-overlap` pixels across the web
 * and along the motion, so a defect on a buffer or tile border is found once and
 * whole. A buffer leaves the element when all its rows are final: the element
 * holds up to tile + stride + 1 rows (see the LATENCY query). EOS scores the rows
 * still held, so every row gets its heatmap. In `mode=frame` each buffer is an
 * independent image, resized to the model input.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=web.png ! pngdec ! videoconvert ! \
 *     video/x-raw,format=GRAY8 ! prnanomaly model=model.prn ! videoconvert ! \
 *     prnoverlay ! videoconvert ! pngenc ! filesink location=scored.png
 * ]| scores one image as a web and writes the overlay; `-m` prints a message per region.
 * |[
 * gst-launch-1.0 aravissrc camera-name=127.0.0.1 ! video/x-raw,format=GRAY8,width=2048,height=64 ! \
 *     queue ! prnanomaly model=model.prn threshold=0.6 ! videoconvert ! prnoverlay ! \
 *     videoconvert ! autovideosink
 * ]| scores a GigE Vision line camera live; the queue decouples the camera thread.
 *
 * Since: 0.1
 */
#include "gstprnanomaly.h"

#include "prnanomaly-state.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include "prn/error.h"

#include <gst/video/video.h>

#include <chrono>
#include <deque>
#include <memory>

GST_DEBUG_CATEGORY (gst_prn_anomaly_debug);
#define GST_CAT_DEFAULT gst_prn_anomaly_debug

#define VIDEO_CAPS \
  "video/x-raw, format = (string) { GRAY8, GRAY16_LE, RGB, BGR, RGBx, BGRx, RGBA, BGRA }, " \
  "width = (int) [ 1, 32768 ], height = (int) [ 1, MAX ], framerate = (fraction) [ 0/1, MAX ]"

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (VIDEO_CAPS));

using prn::gst::drain;
using prn::gst::drop_pending;
using prn::gst::finish_buffer;
using prn::gst::ingest;
using prn::gst::ingest_and_push;
using prn::gst::restart_web;
using prn::gst::update_latency;

#define gst_prn_anomaly_parent_class parent_class
G_DEFINE_TYPE (GstPrnAnomaly, gst_prn_anomaly, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnanomaly, "prnanomaly", GST_RANK_NONE, GST_TYPE_PRN_ANOMALY);

static gboolean
gst_prn_anomaly_start (GstBaseTransform * trans)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  PrnAnomalyState *s = self->state;
  prn::gst::EngineSettings settings;
  GST_OBJECT_LOCK (self);
  settings = prn::gst::engine_settings (s->props);
  GST_OBJECT_UNLOCK (self);

  if (settings.model.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No model bundle: set the 'model' property to a file written by prn-train."), (NULL));
    return FALSE;
  }
  try {
    s->engine = prn::gst::Engine::load (settings);
  } catch (const prn::Error &e) {
    const bool missing = !g_file_test (settings.model.c_str (), G_FILE_TEST_EXISTS);
    if (missing)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Model bundle \"%s\" does not exist.", settings.model.c_str ()), ("%s", e.what ()));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not load the model bundle \"%s\" on device \"%s\": %s", settings.model.c_str (),
              settings.device.c_str (), e.what ()), ("%s", e.what ()));
    return FALSE;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the model bundle \"%s\".", settings.model.c_str ()), ("%s", e.what ()));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "model %s (input %" G_GINT64_FORMAT " px) on %s",
      s->engine->model_id ().c_str (), s->engine->model_size (), s->engine->device_name ().c_str ());
  GST_OBJECT_LOCK (self);
  s->props.model_id = s->engine->model_id ();
  GST_OBJECT_UNLOCK (self);
  s->latency_posted = FALSE;
  GST_OBJECT_LOCK (self);
  const guint max_inflight = s->props.max_inflight;
  GST_OBJECT_UNLOCK (self);
  if (max_inflight > 0)
    s->worker = std::make_unique<prn::gst::InferenceWorker> (max_inflight,
        [self] (prn::gst::WorkerJob & job) { return ingest_and_push (self, job); },
        [self] (GstEvent * e) { gst_pad_store_sticky_event (GST_BASE_TRANSFORM_SRC_PAD (self), e); });
  return TRUE;
}

static gboolean
gst_prn_anomaly_stop (GstBaseTransform * trans)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  if (self->state->engine && self->state->engine->calls () > 0)
    GST_INFO_OBJECT (self, "%" G_GINT64_FORMAT " model calls, %.2f ms each on average, %" G_GINT64_FORMAT
        " CUDA graph(s)", self->state->engine->calls (), self->state->engine->call_time ().count () / 1e6,
        self->state->engine->cuda_graphs ());
  self->state->worker.reset (); /* joins: the pads are flushing, a push returns */
  drop_pending (self);
  prn::gst::forget_held_events (self, false);
  GST_OBJECT_LOCK (self);
  self->state->latency = 0;
  GST_OBJECT_UNLOCK (self);
  self->state->clock.reset ();
  self->state->engine.reset ();
  self->state->have_info = FALSE;
  return TRUE;
}

static gboolean
gst_prn_anomaly_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  PrnAnomalyState *s = self->state;
  (void) outcaps; /* in place: the same caps */
  GstVideoInfo info;
  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Unusable caps."), ("%" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
  s->info = info;
  s->have_info = TRUE;
  const int64_t warmed_before = s->engine ? s->engine->warm_up_calls () : 0;
  const auto t0 = std::chrono::steady_clock::now ();
  try {
    restart_web (self);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Cannot score %s video of width %d: %s",
            GST_VIDEO_INFO_NAME (&info), GST_VIDEO_INFO_WIDTH (&info), e.what ()), (NULL));
    return FALSE;
  }
  if (s->engine)
    GST_INFO_OBJECT (self, "web of %d px %s, %d rows per buffer: %s", GST_VIDEO_INFO_WIDTH (&info),
        GST_VIDEO_INFO_NAME (&info), GST_VIDEO_INFO_HEIGHT (&info), s->engine->web_geometry ().c_str ());
  GST_OBJECT_LOCK (self);
  const guint max_inflight = s->props.max_inflight;
  GST_OBJECT_UNLOCK (self);
  s->held_buffers = prn::gst::held_buffers (*s, max_inflight);
  update_latency (self);
  if (s->engine && s->engine->warm_up_calls () > warmed_before) {
    GST_INFO_OBJECT (self, "warmed up %" G_GINT64_FORMAT " model call shape(s) in %.1f ms",
        s->engine->warm_up_calls () - warmed_before,
        std::chrono::duration < double, std::milli > (std::chrono::steady_clock::now () - t0).count ());
    /* A measured processing time now: the latency we report changed. */
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  }
  return TRUE;
}

static GstFlowReturn
gst_prn_anomaly_submit_input_buffer (GstBaseTransform * trans, gboolean is_discont, GstBuffer * input)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  PrnAnomalyState *s = self->state;
  if (!s->have_info || !s->engine) {
    gst_buffer_unref (input);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Buffer before caps."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  /* Downstream asked to renegotiate (the default submit_input_buffer does this). */
  if (!gst_base_transform_reconfigure (trans)) {
    gst_buffer_unref (input);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  /* Controlled properties (threshold, pixel-threshold, ...) take their value
   * for this buffer's time; the buffer keeps them until it leaves. */
  if (trans->segment.format == GST_FORMAT_TIME && GST_BUFFER_PTS_IS_VALID (input)) {
    const GstClockTime t = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (input));
    if (GST_CLOCK_TIME_IS_VALID (t))
      gst_object_sync_values (GST_OBJECT (self), t);
  }
  GST_OBJECT_LOCK (self);
  const prn::gst::BufferSettings settings = prn::gst::buffer_settings (s->props);
  GST_OBJECT_UNLOCK (self);
  /* Rows were lost upstream: the web is no longer continuous. (The base class's
   * is_discont stays set once raised when generate_output is overridden, so the
   * buffer's own flag is what counts.) */
  (void) is_discont;
  if (GST_BUFFER_IS_DISCONT (input) && s->worker)
    s->worker->wait_idle ();
  if (GST_BUFFER_IS_DISCONT (input) && !s->pending.empty ()) {
    GST_INFO_OBJECT (self, "discontinuity: scoring the held rows and starting a new web");
    GstFlowReturn ret = drain (self);
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (input);
      return ret;
    }
  }

  if (s->worker)
    return s->worker->submit ({input, settings, nullptr});
  return ingest (self, input, settings);
}

static GstFlowReturn
gst_prn_anomaly_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  PrnAnomalyState *s = self->state;
  *outbuf = NULL;
  if (s->worker) /* the worker pushes; report what it met */
    return s->worker->flow ();
  prn::gst::push_due_events (self); /* the buffers returned so far are out */
  if (!s->engine || s->pending.empty ())
    return GST_FLOW_OK;
  try {
    if (s->engine->ready ())
      *outbuf = finish_buffer (self);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Scoring failed."), ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_prn_anomaly_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:
      /* The same caps again (an input-selector, a valve) keep the web going. */
      if (prn::gst::same_caps (trans, event))
        break;
      /* fall through */
    case GST_EVENT_EOS:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_GAP:
    case GST_EVENT_STREAM_START:
    case GST_EVENT_SEGMENT_DONE:
    case GST_EVENT_STREAM_GROUP_DONE:
      /* The web ends (new caps, segment or stream; no data for a while): the
       * held rows are scored and sent first. */
      drain (self);
      break;
    case GST_EVENT_FLUSH_START:
      if (self->state->worker)
        self->state->worker->set_flushing (true);
      break;
    case GST_EVENT_FLUSH_STOP:
      if (self->state->worker) {
        self->state->worker->wait_idle ();
        self->state->worker->set_flushing (false);
      }
      prn::gst::forget_held_events (self, true);
      /* A failure is posted as an error; the flush still goes downstream. */
      prn::gst::restart_web_or_error (self);
      break;
    default:
      /* Any other serialized event waits for the buffers held before it; with
       * the worker it takes its place in the worker's queue. */
      if (gst_event_type_get_flags (GST_EVENT_TYPE (event)) & GST_EVENT_TYPE_SERIALIZED) {
        if (self->state->worker)
          return self->state->worker->submit ({nullptr, {}, event}) == GST_FLOW_OK;
        if (prn::gst::hold_event (self, event))
          return TRUE;
      }
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* Upstream's pools must have room for the buffers this element holds. */
static gboolean
gst_prn_anomaly_propose_allocation (GstBaseTransform * trans, GstQuery * decide_query, GstQuery * query)
{
  /* Downstream may not answer (fakesink, filesink): upstream still learns
   * what this element holds. */
  const gboolean answered = GST_BASE_TRANSFORM_CLASS (parent_class)->propose_allocation (trans, decide_query, query);
  const guint held = GST_PRN_ANOMALY (trans)->state->held_buffers;
  prn::gst::add_held_buffers (query, held);
  return answered || held > 0;
}

static gboolean
gst_prn_anomaly_query (GstBaseTransform * trans, GstPadDirection direction, GstQuery * query)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (trans);
  if (!GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query))
    return FALSE;
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return TRUE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  /* Any thread may ask: the value the scoring thread keeps, not the engine. */
  GST_OBJECT_LOCK (self);
  const GstClockTime ours = self->state->latency;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "latency: upstream %" GST_TIME_FORMAT ", ours %" GST_TIME_FORMAT,
      GST_TIME_ARGS (min), GST_TIME_ARGS (ours));
  min += ours;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += ours;
  gst_query_set_latency (query, live, min, max);
  return TRUE;
}

static GstStateChangeReturn
gst_prn_anomaly_change_state (GstElement * element, GstStateChange transition)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (element);
  /* A streaming thread waiting for room in the worker's queue holds the stream
   * lock the pad deactivation needs: wake it first. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && self->state->worker)
    self->state->worker->set_flushing (true);
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_prn_anomaly_set_property (GObject * object, guint id, const GValue * value, GParamSpec * pspec)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (object);
  GST_OBJECT_LOCK (self);
  const bool ok = prn::gst::set_prop (self->state->props, id, value);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
gst_prn_anomaly_get_property (GObject * object, guint id, GValue * value, GParamSpec * pspec)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (object);
  GST_OBJECT_LOCK (self);
  const bool ok = prn::gst::get_prop (self->state->props, id, value);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
gst_prn_anomaly_finalize (GObject * object)
{
  GstPrnAnomaly *self = GST_PRN_ANOMALY (object);
  drop_pending (self);
  delete self->state;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_anomaly_init (GstPrnAnomaly * self)
{
  self->state = new PrnAnomalyState ();
  gst_video_info_init (&self->state->info);
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  gst_base_transform_set_in_place (trans, TRUE);
  gst_base_transform_set_passthrough (trans, FALSE);
  gst_base_transform_set_qos_enabled (trans, FALSE);
}

static void
gst_prn_anomaly_class_init (GstPrnAnomalyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_anomaly_debug, "prnanomaly", 0, "PRN anomaly detection");

  gobject_class->set_property = gst_prn_anomaly_set_property;
  gobject_class->get_property = gst_prn_anomaly_get_property;
  gobject_class->finalize = gst_prn_anomaly_finalize;
  prn::gst::install_properties (gobject_class);

  gst_element_class_set_static_metadata (element_class, "PRN anomaly detection", "Filter/Analyzer/Video",
      "Scores line-camera streams with a Prototypical Residual Network and attaches heatmap, "
      "score and region metadata (GstPrnAnomalyMeta). Example: gst-launch-1.0 -m filesrc location=web.png ! "
      "pngdec ! videoconvert ! video/x-raw,format=GRAY8 ! prnanomaly model=model.prn ! videoconvert ! "
      "prnoverlay ! videoconvert ! pngenc ! filesink location=scored.png", "prnanomaly developers");
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_prn_anomaly_change_state);
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->start = GST_DEBUG_FUNCPTR (gst_prn_anomaly_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_prn_anomaly_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_prn_anomaly_set_caps);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR (gst_prn_anomaly_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR (gst_prn_anomaly_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_prn_anomaly_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_prn_anomaly_query);
  trans_class->propose_allocation = GST_DEBUG_FUNCPTR (gst_prn_anomaly_propose_allocation);

  gst_type_mark_as_plugin_api (GST_TYPE_PRN_ANOMALY_MODE, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_PRN_ANOMALY_MESSAGES, (GstPluginAPIFlags) 0);
}
