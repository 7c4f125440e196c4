// prnanomaly element: its C++ state and the streaming steps that work on it
// (taking buffers in, scoring, draining, sending them out), apart from the
// GObject glue in gstprnanomaly.cpp.
#pragma once

#include "engine.h"
#include "gstprnanomaly.h"
#include "prnanomaly-messages.h"
#include "prnanomaly-props.h"
#include "prnanomaly-worker.h"

#include <gst/video/video.h>

#include <deque>
#include <memory>

/* The C++ state of the element: created in _init, deleted in finalize. */
struct PrnAnomalyState {
  prn::gst::PrnAnomalySettings props;       /* guarded by the object lock */
  std::unique_ptr<prn::gst::Engine> engine; /* from start() to stop() */
  GstVideoInfo info;
  gboolean have_info = FALSE;
  std::deque<GstBuffer *> pending;          /* buffers whose rows are held, oldest first */
  prn::gst::RowClock clock;                 /* web row -> timestamp */
  gboolean latency_posted = FALSE;
  std::unique_ptr<prn::gst::InferenceWorker> worker; /* max-inflight > 0, from start() to stop() */
};

struct _GstPrnAnomaly {
  GstBaseTransform parent;
  PrnAnomalyState *state;
};

namespace prn::gst {

// Unrefs the held buffers.
void drop_pending (GstPrnAnomaly * self);
// Restarts the web (same caps): held rows are forgotten.
void restart_web (GstPrnAnomaly * self);
// Takes the oldest held buffer with its results, meta attached and messages posted.
GstBuffer *finish_buffer (GstPrnAnomaly * self);
// Scores everything held (EOS, caps change, discontinuity) and pushes it out.
GstFlowReturn drain (GstPrnAnomaly * self);
// Takes a camera buffer in: its rows go to the engine; it waits until final.
GstFlowReturn ingest (GstPrnAnomaly * self, GstBuffer * input);
// The worker's job: ingest, then push every buffer that is ready.
GstFlowReturn ingest_and_push (GstPrnAnomaly * self, GstBuffer * input);

} // namespace prn::gst
