/* prnline: what the prnline elements share (property flags, buffer times). */
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>

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

/* Ends (`end`: FLUSH_START, PAUSED to READY) or allows again (FLUSH_STOP) the
 * EOS wait of the worker `get ()` returns (nullptr: none), for the passthroughs
 * that wait for a worker at EOS (prnmqtt, prnwebhook, prnsave). Under the object
 * lock: flushes and state changes come from other threads than the stream's, and
 * `get` reads a pointer that start() and stop() set under it. */
template <typename Get>
inline void
end_eos_wait (GstObject * object, bool end, Get get)
{
  GST_OBJECT_LOCK (object);
  if (auto *worker = get ()) {
    if (end)
      worker->cancel_wait ();
    else
      worker->resume_wait ();
  }
  GST_OBJECT_UNLOCK (object);
}

}  // namespace prn
