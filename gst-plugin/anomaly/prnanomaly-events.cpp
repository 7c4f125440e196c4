// prnanomaly element: serialized events that come while buffers are held.
//
// A buffer leaves the element only when its rows are final, so a serialized
// event (a tag, a custom event) that comes after it would overtake it if it
// went on at once. Such an event waits with the number of buffers taken in
// before it and goes out right after the last of them. Events that end the web
// (EOS, caps, segment, gap, stream-start) do not wait: they drain the held rows
// first (gstprnanomaly.cpp).
#include "prnanomaly-state.h"

GST_DEBUG_CATEGORY_EXTERN (gst_prn_anomaly_debug);
#define GST_CAT_DEFAULT gst_prn_anomaly_debug

namespace prn::gst {

gboolean
same_caps (GstBaseTransform * trans, GstEvent * event)
{
  GstCaps *caps = nullptr;
  gst_event_parse_caps (event, &caps);
  GstCaps *current = gst_pad_get_current_caps (GST_BASE_TRANSFORM_SINK_PAD (trans));
  const gboolean same = current != nullptr && gst_caps_is_equal (current, caps);
  if (current != nullptr)
    gst_caps_unref (current);
  return same;
}

gboolean
hold_event (GstPrnAnomaly * self, GstEvent * event)
{
  PrnAnomalyState *s = self->state;
  std::lock_guard<std::mutex> lock (s->events_lock);
  if (s->buffers_out == s->buffers_in && s->held_events.empty ())
    return FALSE;
  GST_DEBUG_OBJECT (self, "holding %" GST_PTR_FORMAT " until %" G_GUINT64_FORMAT " buffers are out", event,
      s->buffers_in);
  s->held_events.emplace_back (s->buffers_in, event);
  return TRUE;
}

void
count_buffer_in (GstPrnAnomaly * self)
{
  std::lock_guard<std::mutex> lock (self->state->events_lock);
  self->state->buffers_in++;
}

void
count_buffer_out (GstPrnAnomaly * self)
{
  std::lock_guard<std::mutex> lock (self->state->events_lock);
  self->state->buffers_out++;
}

void
push_due_events (GstPrnAnomaly * self, bool all)
{
  PrnAnomalyState *s = self->state;
  std::deque<GstEvent *> due;
  {
    std::lock_guard<std::mutex> lock (s->events_lock);
    while (!s->held_events.empty () && (all || s->held_events.front ().first <= s->buffers_out)) {
      due.push_back (s->held_events.front ().second);
      s->held_events.pop_front ();
    }
  }
  /* Only the thread that pushes buffers gets here: nothing overtakes these. */
  for (GstEvent *e : due)
    gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), e);
}

void
forget_held_events (GstPrnAnomaly * self, bool keep_sticky)
{
  PrnAnomalyState *s = self->state;
  std::deque<std::pair<uint64_t, GstEvent *>> held;
  {
    std::lock_guard<std::mutex> lock (s->events_lock);
    held.swap (s->held_events);
    s->buffers_in = s->buffers_out = 0;
  }
  for (auto &[after, e] : held) {
    (void) after;
    if (keep_sticky && (gst_event_type_get_flags (GST_EVENT_TYPE (e)) & GST_EVENT_TYPE_STICKY))
      gst_pad_store_sticky_event (GST_BASE_TRANSFORM_SRC_PAD (self), e);
    gst_event_unref (e);
  }
}

} // namespace prn::gst
