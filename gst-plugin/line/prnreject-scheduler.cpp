/* prnline: prnreject's scheduling on the pipeline clock (see prnreject-scheduler.h). */
#include "prnreject-scheduler.h"

GST_DEBUG_CATEGORY_EXTERN (gst_prn_reject_debug);
#define GST_CAT_DEFAULT gst_prn_reject_debug

namespace prn {

struct RejectScheduler::CallbackData {
  RejectScheduler *self;
  GstObject *owner;             /* a reference: keeps self alive */
  guint64 pulse;
  bool start;
  GstClockTime time;            /* running time the id was scheduled for */
};

RejectScheduler::RejectScheduler (GstObject *owner, Emit output, Emit notify)
  : owner_ (owner), output_ (std::move (output)), notify_ (std::move (notify))
{
  g_mutex_init (&lock_);
  g_cond_init (&idle_cond_);
  g_rec_mutex_init (&emit_lock_);
}

RejectScheduler::~RejectScheduler ()
{
  unschedule_all ();
  gst_object_replace (reinterpret_cast<GstObject **> (&clock_), nullptr);
  g_rec_mutex_clear (&emit_lock_);
  g_cond_clear (&idle_cond_);
  g_mutex_clear (&lock_);
}

void
RejectScheduler::free_data (gpointer data)
{
  auto *d = static_cast<CallbackData *> (data);
  gst_object_unref (d->owner);
  delete d;
}

gboolean
RejectScheduler::on_clock (GstClock *, GstClockTime, GstClockID id, gpointer user_data)
{
  auto *d = static_cast<CallbackData *> (user_data);
  RejectScheduler *self = d->self;

  g_mutex_lock (&self->lock_);
  auto it = self->scheduled_.find (d->pulse);
  if (it == self->scheduled_.end () || it->second.id != id) {
    g_mutex_unlock (&self->lock_);     /* unscheduled or rescheduled meanwhile */
    return TRUE;
  }
  gst_clock_id_unref (it->second.id);
  self->scheduled_.erase (it);

  std::vector<RejectEvent> events;
  if (d->start) {
    if (const Pulse *p = self->planner_.fire (d->pulse, d->time))
      events.push_back (self->fire_event (*p));
  } else if (self->planner_.release (d->pulse, d->time)) {
    RejectEvent e;
    e.kind = RejectEvent::RELEASE;
    events.push_back (e);
  }
  self->reconcile ();
  self->emit_and_unlock (events);
  return TRUE;
}

RejectEvent
RejectScheduler::fire_event (const Pulse &p) const
{
  RejectEvent e;
  e.kind = RejectEvent::FIRE;
  e.record.fire_time = p.fired_at;
  e.record.due_time = p.start;
  e.record.row_offset = p.row_first;
  e.record.rows = p.row_last - p.row_first;
  e.record.x = p.x0;
  e.record.width = p.x1 - p.x0;
  e.record.pulse_ms = static_cast<double> (p.end - p.fired_at) / GST_MSECOND;
  e.record.late = p.late || p.fired_at > p.start;
  e.record.count = p.count;
  return e;
}

void
RejectScheduler::emit_and_unlock (const std::vector<RejectEvent> &events)
{
  if (planner_.pulses ().empty ())
    g_cond_broadcast (&idle_cond_);
  g_rec_mutex_lock (&emit_lock_);
  g_mutex_unlock (&lock_);
  for (const RejectEvent &e : events)
    output_ (e);
  g_rec_mutex_unlock (&emit_lock_);
  for (const RejectEvent &e : events)
    notify_ (e);
}

void
RejectScheduler::unschedule_all ()
{
  for (auto &entry : scheduled_) {
    gst_clock_id_unschedule (entry.second.id);
    gst_clock_id_unref (entry.second.id);
  }
  scheduled_.clear ();
}

void
RejectScheduler::reconcile ()
{
  if (!playing_ || clock_ == nullptr) {
    unschedule_all ();
    return;
  }
  /* Ids of pulses that are gone (merged into another one). */
  for (auto it = scheduled_.begin (); it != scheduled_.end ();) {
    if (planner_.find (it->first) == nullptr) {
      gst_clock_id_unschedule (it->second.id);
      gst_clock_id_unref (it->second.id);
      it = scheduled_.erase (it);
    } else {
      ++it;
    }
  }
  for (const Pulse &p : planner_.pulses ()) {
    const GstClockTime t = PulsePlanner::next_event (p);
    const bool start = p.state == Pulse::PENDING;
    auto it = scheduled_.find (p.id);
    if (it != scheduled_.end ()) {
      if (it->second.time == t && it->second.start == start)
        continue;
      gst_clock_id_unschedule (it->second.id);
      gst_clock_id_unref (it->second.id);
      scheduled_.erase (it);
    }
    GstClockID id = gst_clock_new_single_shot_id (clock_, base_time_ + t);
    auto *d = new CallbackData { this, GST_OBJECT (gst_object_ref (owner_)), p.id, start, t };
    const GstClockReturn ret = gst_clock_id_wait_async (id, on_clock, d, free_data);
    if (ret != GST_CLOCK_OK) {
      GST_WARNING_OBJECT (owner_, "could not schedule pulse %" G_GUINT64_FORMAT ": %d",
          p.id, ret);
      gst_clock_id_unref (id);
      continue;
    }
    GST_LOG_OBJECT (owner_, "pulse %" G_GUINT64_FORMAT " %s at %" GST_TIME_FORMAT, p.id,
        start ? "starts" : "ends", GST_TIME_ARGS (t));
    scheduled_[p.id] = Scheduled { id, t, start };
  }
}

GstClockTime
RejectScheduler::now_unlocked () const
{
  if (!playing_ || clock_ == nullptr)
    return GST_CLOCK_TIME_NONE;
  const GstClockTime t = gst_clock_get_time (clock_);
  return t > base_time_ ? t - base_time_ : 0;
}

GstClockTime
RejectScheduler::now ()
{
  g_mutex_lock (&lock_);
  const GstClockTime t = now_unlocked ();
  g_mutex_unlock (&lock_);
  return t;
}

void
RejectScheduler::fire_now (guint64 id, GstClockTime at, std::vector<RejectEvent> &out)
{
  const Pulse *p = planner_.fire (id, at);
  if (p == nullptr)
    return;
  out.push_back (fire_event (*p));
  if (clock_ == nullptr) {
    /* Nothing to time the release with: the pulse is reported, and a GPIO line
     * goes up and down at once. */
    planner_.release (id, GST_CLOCK_TIME_NONE);
    RejectEvent e;
    e.kind = RejectEvent::RELEASE;
    out.push_back (e);
  }
}

/* Under lock_: the pending pulses that are due (all of them without a clock). */
static std::vector<guint64>
due_pulses (const PulsePlanner &planner, GstClockTime now, bool all)
{
  std::vector<guint64> ids;
  for (const Pulse &p : planner.pulses ())
    if (p.state == Pulse::PENDING && (all || (GST_CLOCK_TIME_IS_VALID (now) && p.start < now)))
      ids.push_back (p.id);
  return ids;
}

void
RejectScheduler::play (GstClock *clock, GstClockTime base_time)
{
  g_mutex_lock (&lock_);
  gst_object_replace (reinterpret_cast<GstObject **> (&clock_), GST_OBJECT_CAST (clock));
  base_time_ = base_time;
  playing_ = true;
  const GstClockTime now = now_unlocked ();
  std::vector<RejectEvent> events;
  for (guint64 id : due_pulses (planner_, now, clock_ == nullptr))
    fire_now (id, now, events);
  reconcile ();
  emit_and_unlock (events);
}

void
RejectScheduler::pause ()
{
  g_mutex_lock (&lock_);
  playing_ = false;
  unschedule_all ();
  g_mutex_unlock (&lock_);
}

guint
RejectScheduler::add (const std::vector<std::pair<PulseWindow, RejectRequest>> &requests,
    GstClockTime min_gap)
{
  g_mutex_lock (&lock_);
  const GstClockTime now = now_unlocked ();
  guint late = 0;
  for (const auto &r : requests) {
    if (!GST_CLOCK_TIME_IS_VALID (r.first.start))
      continue;
    const PulsePlanner::AddResult res = planner_.add (r.first, r.second, now, min_gap);
    if (res.late)
      late++;
    GST_LOG_OBJECT (owner_, "rows [%" G_GUINT64_FORMAT ", +%" G_GUINT64_FORMAT
        ") due %" GST_TIME_FORMAT ": pulse %" G_GUINT64_FORMAT "%s%s", r.second.web_row,
        r.second.rows, GST_TIME_ARGS (r.first.due), res.id, res.absorbed ? " (absorbed)" : "",
        res.late ? " (late)" : "");
  }
  std::vector<RejectEvent> events;
  if (playing_)
    for (guint64 id : due_pulses (planner_, now, clock_ == nullptr))
      fire_now (id, now, events);
  reconcile ();
  emit_and_unlock (events);
  return late;
}

void
RejectScheduler::cancel ()
{
  g_mutex_lock (&lock_);
  unschedule_all ();
  std::vector<RejectEvent> events;
  for (const Pulse &p : planner_.pulses ())
    if (p.state == Pulse::ACTIVE) {
      RejectEvent e;
      e.kind = RejectEvent::RELEASE;
      events.push_back (e);
    }
  if (!planner_.pulses ().empty ())
    GST_DEBUG_OBJECT (owner_, "cancelling %zu pulses", planner_.pulses ().size ());
  planner_.clear ();
  cancel_count_++;
  emit_and_unlock (events);
}

bool
RejectScheduler::wait_idle ()
{
  g_mutex_lock (&lock_);
  const guint64 cancels = cancel_count_;
  while (!planner_.pulses ().empty () && !interrupted_ && cancel_count_ == cancels)
    g_cond_wait (&idle_cond_, &lock_);
  const bool idle = planner_.pulses ().empty () && !interrupted_ && cancel_count_ == cancels;
  g_mutex_unlock (&lock_);
  return idle;
}

void
RejectScheduler::interrupt ()
{
  g_mutex_lock (&lock_);
  interrupted_ = true;
  g_cond_broadcast (&idle_cond_);
  g_mutex_unlock (&lock_);
}

void
RejectScheduler::resume ()
{
  g_mutex_lock (&lock_);
  interrupted_ = false;
  g_mutex_unlock (&lock_);
}

size_t
RejectScheduler::pending ()
{
  g_mutex_lock (&lock_);
  const size_t n = planner_.pulses ().size ();
  g_mutex_unlock (&lock_);
  return n;
}

}  // namespace prn
