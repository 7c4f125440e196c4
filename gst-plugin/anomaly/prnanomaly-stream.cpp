// prnanomaly element: the streaming steps (see prnanomaly-state.h).
#include "prnanomaly-state.h"

#include "prn/error.h"
#include "prn/stream/helper_thread.h"

#include <algorithm>

GST_DEBUG_CATEGORY_EXTERN (gst_prn_anomaly_debug);
#define GST_CAT_DEFAULT gst_prn_anomaly_debug

namespace prn::gst {

namespace {

/* The thresholds in force: the properties, or the bundle's calibration (-1). */
float
image_threshold (const BufferSettings & p, const Engine & engine)
{
  return p.threshold >= 0 ? p.threshold : (float) engine.calibration ().image_threshold;
}

float
pixel_threshold_of (const BufferSettings & p, const Engine & engine)
{
  return p.pixel_threshold >= 0 ? p.pixel_threshold : (float) engine.calibration ().pixel_threshold;
}

} // namespace

void
drop_pending (GstPrnAnomaly * self)
{
  PrnAnomalyState *s = self->state;
  for (HeldBuffer &h : s->pending)
    gst_buffer_unref (h.buffer);
  s->pending.clear ();
  std::lock_guard<std::mutex> lock (s->events_lock);
  s->buffers_out = s->buffers_in; /* no event waits for a dropped buffer */
}

/* Restarts the web (same caps): held rows are forgotten. */
void
restart_web (GstPrnAnomaly * self)
{
  PrnAnomalyState *s = self->state;
  drop_pending (self);
  s->clock.restart ();
  if (s->engine && s->have_info)
    s->engine->start_web (GST_VIDEO_INFO_WIDTH (&s->info),
        prn::stream::pixel_format_from_name (GST_VIDEO_INFO_NAME (&s->info)));
}

gboolean
restart_web_or_error (GstPrnAnomaly * self)
{
  try {
    restart_web (self);
    return TRUE;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Cannot start a new web: %s", e.what ()), (NULL));
    return FALSE;
  }
}

void
update_latency (GstPrnAnomaly * self)
{
  PrnAnomalyState *s = self->state;
  const GstClockTime t = s->engine && s->have_info ? own_latency (*s->engine, s->info) : 0;
  GST_OBJECT_LOCK (self);
  s->latency = t;
  GST_OBJECT_UNLOCK (self);
}

guint
held_buffers (const PrnAnomalyState & s, guint max_inflight)
{
  if (!s.engine || !s.have_info)
    return 0;
  const int64_t rows = s.engine->rows_held (), height = std::max (1, GST_VIDEO_INFO_HEIGHT (&s.info));
  const int64_t waiting = rows > 0 ? (rows + height - 1) / height + 1 : 0; /* + the one not yet final */
  return static_cast<guint> (waiting) + max_inflight;
}

void
add_held_buffers (GstQuery * query, guint held)
{
  if (held == 0)
    return;
  const guint n = gst_query_get_n_allocation_pools (query);
  for (guint i = 0; i < n; ++i) {
    GstBufferPool *pool = nullptr;
    guint size = 0, min = 0, max = 0;
    gst_query_parse_nth_allocation_pool (query, i, &pool, &size, &min, &max);
    min += held;
    if (max != 0 && max < min)
      max = min;
    gst_query_set_nth_allocation_pool (query, i, pool, size, min, max);
    if (pool != nullptr)
      gst_object_unref (pool);
  }
  if (n > 0)
    return;
  GstCaps *caps = nullptr;
  gboolean need_pool = FALSE;
  gst_query_parse_allocation (query, &caps, &need_pool);
  GstVideoInfo info;
  const guint size = caps != nullptr && gst_video_info_from_caps (&info, caps) ? GST_VIDEO_INFO_SIZE (&info) : 0;
  gst_query_add_allocation_pool (query, nullptr, size, held, 0);
}

/* Takes the oldest held buffer with its results, meta attached and messages posted. */
GstBuffer *
finish_buffer (GstPrnAnomaly * self)
{
  PrnAnomalyState *s = self->state;
  const BufferSettings p = s->pending.front ().settings; /* as when the buffer came in */
  const float threshold = image_threshold (p, *s->engine);
  const float pixel_threshold = pixel_threshold_of (p, *s->engine);

  prn::gst::BufferResult r = s->engine->take ();
  GstBuffer *buf = gst_buffer_make_writable (s->pending.front ().buffer);
  s->pending.pop_front ();
  count_buffer_out (self);

  GstPrnAnomalyMeta *m =
      prn::gst::attach_meta (buf, r, s->clock.web_base (), threshold, pixel_threshold, p.min_region_area,
      s->engine->model_id ());
  prn::gst::post_messages (GST_ELEMENT (self), &GST_BASE_TRANSFORM (self)->segment, s->clock, buf, m, p.messages);
  s->clock.forget_before (s->clock.web_base () + r.first_row - 16 * s->engine->rows_held ());
  return buf;
}

/* Scores everything held (EOS, caps change, discontinuity) and pushes it out. */
GstFlowReturn
drain (GstPrnAnomaly * self)
{
  PrnAnomalyState *s = self->state;
  if (s->worker)
    s->worker->wait_idle (); /* from here on only this thread touches the engine */
  if (!s->engine || s->pending.empty ()) {
    push_due_events (self, true);
    return GST_FLOW_OK;
  }
  GstFlowReturn ret = GST_FLOW_OK;
  auto score_and_push = [&] {
    s->engine->finish ();
    while (ret == GST_FLOW_OK && s->engine->ready ()) {
      ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), finish_buffer (self));
      push_due_events (self);
    }
  };
  try {
    /* With a worker, the worker's thread is the one that scores: scoring here
     * would give this thread an OpenMP team too, which slows the worker's for the
     * rest of the stream (prn/stream/helper_thread.h). */
    if (s->worker)
      prn::stream::run_on_helper_thread (score_and_push);
    else
      score_and_push ();
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Scoring the held rows failed."), ("%s", e.what ()));
    ret = GST_FLOW_ERROR;
  }
  GST_DEBUG_OBJECT (self, "drained: %s", gst_flow_get_name (ret));
  push_due_events (self, true); /* they came before what drains */
  if (!restart_web_or_error (self))
    ret = GST_FLOW_ERROR;
  return ret;
}

/* Takes a camera buffer: its rows go to the engine, the buffer waits in
 * `pending` until its rows are final. Runs in the streaming thread, or in the
 * worker with max-inflight. */
GstFlowReturn
ingest (GstPrnAnomaly * self, GstBuffer * input, const BufferSettings & p)
{
  PrnAnomalyState *s = self->state;

  GstVideoFrame frame;
  if (!gst_video_frame_map (&frame, &s->info, input, GST_MAP_READ)) {
    gst_buffer_unref (input);
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map a video buffer."),
        ("buffer of %" G_GSIZE_FORMAT " bytes for %d x %d", gst_buffer_get_size (input),
            GST_VIDEO_INFO_WIDTH (&s->info), GST_VIDEO_INFO_HEIGHT (&s->info)));
    return GST_FLOW_ERROR;
  }
  const int64_t rows = GST_VIDEO_FRAME_HEIGHT (&frame);
  const int64_t first_row = s->clock.next_row ();
  const int64_t calls_before = s->engine->calls ();
  try {
    s->engine->set_pixel_threshold (pixel_threshold_of (p, *s->engine));
    s->engine->push (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0), rows, GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0));
  } catch (const std::exception &e) {
    gst_video_frame_unmap (&frame);
    gst_buffer_unref (input);
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Scoring failed."), ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  gst_video_frame_unmap (&frame);
  s->clock.add (first_row, rows, GST_BUFFER_PTS (input), GST_BUFFER_DURATION (input));
  s->pending.push_back ({input, p});
  count_buffer_in (self);

  /* Measured inference times are the latency we report; the first one changes it. */
  if (s->engine->calls () > calls_before) {
    update_latency (self);
    if (!s->latency_posted) {
      s->latency_posted = TRUE;
      gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
    }
  }
  return GST_FLOW_OK;
}

/* The worker's job: ingest, then push every buffer that is ready. */
GstFlowReturn
ingest_and_push (GstPrnAnomaly * self, WorkerJob & job)
{
  PrnAnomalyState *s = self->state;
  if (job.event != nullptr) { /* in its place among the buffers */
    if (!hold_event (self, job.event))
      gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), job.event);
    return GST_FLOW_OK;
  }
  GstFlowReturn ret = ingest (self, job.buffer, job.settings);
  try {
    while (ret == GST_FLOW_OK && s->engine->ready ()) {
      ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), finish_buffer (self));
      push_due_events (self);
    }
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Scoring failed."), ("%s", e.what ()));
    ret = GST_FLOW_ERROR;
  }
  return ret;
}

} // namespace prn::gst
