// prnanomaly element: the streaming steps (see prnanomaly-state.h).
#include "prnanomaly-state.h"

#include "prn/error.h"
#include "prn/stream/helper_thread.h"

GST_DEBUG_CATEGORY_EXTERN (gst_prn_anomaly_debug);
#define GST_CAT_DEFAULT gst_prn_anomaly_debug

namespace prn::gst {

namespace {

/* The thresholds in force: the properties, or the bundle's calibration (-1). */
float
image_threshold (const PrnAnomalySettings & p, const Engine & engine)
{
  return p.threshold >= 0 ? p.threshold : (float) engine.calibration ().image_threshold;
}

float
pixel_threshold_of (const PrnAnomalySettings & p, const Engine & engine)
{
  return p.pixel_threshold >= 0 ? p.pixel_threshold : (float) engine.calibration ().pixel_threshold;
}

} // namespace

void
drop_pending (GstPrnAnomaly * self)
{
  for (GstBuffer *b : self->state->pending)
    gst_buffer_unref (b);
  self->state->pending.clear ();
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

/* Takes the oldest held buffer with its results, meta attached and messages posted. */
GstBuffer *
finish_buffer (GstPrnAnomaly * self)
{
  PrnAnomalyState *s = self->state;
  prn::gst::PrnAnomalySettings p;
  GST_OBJECT_LOCK (self);
  p = s->props;
  GST_OBJECT_UNLOCK (self);
  const float threshold = image_threshold (p, *s->engine);
  const float pixel_threshold = pixel_threshold_of (p, *s->engine);

  prn::gst::BufferResult r = s->engine->take ();
  GstBuffer *buf = gst_buffer_make_writable (s->pending.front ());
  s->pending.pop_front ();

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
  if (!s->engine || s->pending.empty ())
    return GST_FLOW_OK;
  GstFlowReturn ret = GST_FLOW_OK;
  auto score_and_push = [&] {
    s->engine->finish ();
    while (ret == GST_FLOW_OK && s->engine->ready ())
      ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), finish_buffer (self));
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
  restart_web (self);
  return ret;
}

/* Takes a camera buffer: its rows go to the engine, the buffer waits in
 * `pending` until its rows are final. Runs in the streaming thread, or in the
 * worker with max-inflight. */
GstFlowReturn
ingest (GstPrnAnomaly * self, GstBuffer * input)
{
  PrnAnomalyState *s = self->state;
  prn::gst::PrnAnomalySettings p;
  GST_OBJECT_LOCK (self);
  p = s->props;
  GST_OBJECT_UNLOCK (self);

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
  s->pending.push_back (input);

  /* The first measured inference time changes the latency we report. */
  if (!s->latency_posted && s->engine->calls () > calls_before) {
    s->latency_posted = TRUE;
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  }
  return GST_FLOW_OK;
}

/* The worker's job: ingest, then push every buffer that is ready. */
GstFlowReturn
ingest_and_push (GstPrnAnomaly * self, GstBuffer * input)
{
  PrnAnomalyState *s = self->state;
  GstFlowReturn ret = ingest (self, input);
  try {
    while (ret == GST_FLOW_OK && s->engine->ready ())
      ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), finish_buffer (self));
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Scoring failed."), ("%s", e.what ()));
    ret = GST_FLOW_ERROR;
  }
  return ret;
}

} // namespace prn::gst
