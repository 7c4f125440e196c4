/* prnline: what the prnline elements share (property flags, buffer times, the
 * EOS wait of the passthroughs with a worker thread). */
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>

#include "prnwait-end.h"

namespace prn {

/* A string property's value; nullopt for NULL. */
inline std::optional<std::string>
optional_string (const GValue * value)
{
  const gchar *s = g_value_get_string (value);
  return s != nullptr ? std::optional<std::string> (s) : std::nullopt;
}

/* Sets a string property's value; NULL for nullopt. */
inline void
set_optional_string (GValue * value, const std::optional<std::string> & s)
{
  g_value_set_string (value, s ? s->c_str () : nullptr);
}

/* Property flags: changeable up to READY (taken in start()) / while PLAYING. */
constexpr GParamFlags PROP_FLAGS_READY = static_cast<GParamFlags> (G_PARAM_READWRITE
    | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
constexpr GParamFlags PROP_FLAGS_PLAYING = static_cast<GParamFlags> (G_PARAM_READWRITE
    | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

/* The running time of `pts` in `segment`: GST_CLOCK_TIME_NONE when the PTS is
 * not known or the segment is not in TIME format (or the PTS is outside it). */
inline GstClockTime
segment_running_time (const GstSegment & segment, GstClockTime pts)
{
  if (!GST_CLOCK_TIME_IS_VALID (pts) || segment.format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time (&segment, GST_FORMAT_TIME, pts);
}

/* FLUSH_START or FLUSH_STOP as the WaitChange it makes; nullopt for any other
 * event. */
inline std::optional<WaitChange>
flush_wait_change (GstEvent * event)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START: return WaitChange::FLUSH_START;
    case GST_EVENT_FLUSH_STOP: return WaitChange::FLUSH_STOP;
    default: return std::nullopt;
  }
}

/* Ends (FLUSH_START, LEAVING_PAUSED) or allows again (FLUSH_STOP, unless the
 * element is leaving PAUSED) the EOS wait of the worker `get ()` returns
 * (nullptr: none), for the passthroughs that wait for a worker at EOS (prnmqtt,
 * prnwebhook, prnsave). Under the object lock: flushes and state changes come
 * from other threads than the stream's, and `get` reads a pointer that start()
 * and stop() set under it. */
template <typename Get>
inline void
change_eos_wait (GstObject * object, WaitChange change, Get get)
{
  GST_OBJECT_LOCK (object);
  if (auto *worker = get ())
    worker->change_wait (change);
  GST_OBJECT_UNLOCK (object);
}

/* EOS of a passthrough whose worker drains a JobQueue (prnwebhook, prnsave):
 * waits up to `timeout_ms` for `worker` (wait_idle (), counts ()), warns when
 * some jobs are still pending ("<n> <not_done> within <timeout> ms."), and posts
 * an element message `name` with `done_field`, "failed", "dropped" and
 * "waiting". In the streaming thread, with the stream lock held: a flush or
 * PAUSED to READY ends the wait (change_eos_wait). */
template <typename Worker>
inline void
wait_for_worker_at_eos (GstElement * element, Worker & worker, guint timeout_ms, const char *name,
    const char *done_field, const char *not_done)
{
  worker.wait_idle (timeout_ms);
  const auto c = worker.counts ();
  if (c.pending > 0) {
    /* GST_ELEMENT_WARNING's own log line would go to the header's debug
     * category, not the element's: the message is posted directly. */
    gst_element_message_full (element, GST_MESSAGE_WARNING, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_WRITE, g_strdup_printf ("%" G_GUINT64_FORMAT " %s within %u ms.",
            static_cast<guint64> (c.pending), not_done, timeout_ms),
        g_strdup ("still queued or in progress at EOS"), __FILE__, GST_FUNCTION, __LINE__);
  }
  gst_element_post_message (element, gst_message_new_element (GST_OBJECT (element),
          gst_structure_new (name, done_field, G_TYPE_UINT64, static_cast<guint64> (c.done), "failed",
              G_TYPE_UINT64, static_cast<guint64> (c.failed), "dropped", G_TYPE_UINT64,
              static_cast<guint64> (c.dropped), "waiting", G_TYPE_UINT64,
              static_cast<guint64> (c.pending), NULL)));
}

}  // namespace prn
