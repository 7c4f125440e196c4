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

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

/* A buffer whose rows are held, with the settings it came with. */
struct HeldBuffer {
  GstBuffer *buffer;
  prn::gst::BufferSettings settings;
};

/* The C++ state of the element: created in _init, deleted in finalize. */
struct PrnAnomalyState {
  prn::gst::PrnAnomalySettings props;       /* guarded by the object lock */
  std::unique_ptr<prn::gst::Engine> engine; /* from start() to stop() */
  GstVideoInfo info;
  gboolean have_info = FALSE;
  std::deque<HeldBuffer> pending;           /* buffers whose rows are held, oldest first */
  prn::gst::RowClock clock;                 /* web row -> timestamp */
  gboolean latency_posted = FALSE;
  guint held_buffers = 0;                   /* set with the caps (streaming thread) */
  GstClockTime latency = 0;                 /* own latency; guarded by the object lock (the
                                               LATENCY query reads it on any thread) */
  std::unique_ptr<prn::gst::InferenceWorker> worker; /* max-inflight > 0, from start() to stop() */

  /* Serialized events that came while buffers were held, each with the number
   * of buffers taken in before it: it goes out right after the last of them.
   * Guarded by events_lock (the worker pushes buffers and these events). */
  std::mutex events_lock;
  std::deque<std::pair<uint64_t, GstEvent *>> held_events;
  uint64_t buffers_in = 0, buffers_out = 0;
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
GstFlowReturn ingest (GstPrnAnomaly * self, GstBuffer * input, const BufferSettings & settings);
// The worker's job: a buffer is ingested, then every buffer that is ready is
// pushed; an event is held or pushed (hold_event).
GstFlowReturn ingest_and_push (GstPrnAnomaly * self, WorkerJob & job);
// restart_web (self), a failure posted as an element error: FALSE then.
gboolean restart_web_or_error (GstPrnAnomaly * self);
// Recomputes the own latency the LATENCY query answers (on the thread that
// scores).
void update_latency (GstPrnAnomaly * self);

// Buffers held at most: until their rows are final, plus those waiting for the
// worker; 0 when nothing waits (frame mode, no worker).
guint held_buffers (const PrnAnomalyState & s, guint max_inflight);
// Asks upstream, in an ALLOCATION query, for `held` buffers more in every pool
// (a pool without them would run dry while the element holds its buffers).
void add_held_buffers (GstQuery * query, guint held);

// Serialized events and held buffers (prnanomaly-events.cpp).
// TRUE for a CAPS event equal to the sink pad's current caps.
gboolean same_caps (GstBaseTransform * trans, GstEvent * event);
// Keeps a serialized event that must wait for buffers still held (TRUE: the
// event is taken), or FALSE: nothing is held, the event goes on now. On the
// thread that takes buffers in (the streaming thread, or the worker).
gboolean hold_event (GstPrnAnomaly * self, GstEvent * event);
// Counts a buffer taken in / sent out.
void count_buffer_in (GstPrnAnomaly * self);
void count_buffer_out (GstPrnAnomaly * self);
// Pushes the held events whose buffers have all gone out (`all`: every one).
void push_due_events (GstPrnAnomaly * self, bool all = false);
// Flush or stop: the held events go; sticky ones (tags) are stored on the
// source pad, to go before the next buffer (`keep_sticky`).
void forget_held_events (GstPrnAnomaly * self, bool keep_sticky);

} // namespace prn::gst
