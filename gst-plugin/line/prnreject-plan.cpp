/* prnline: prnreject's timing and merging logic (see prnreject-plan.h). */
#include "prnreject-plan.h"

#include <algorithm>
#include <cmath>

namespace prn {

gint64
rows_to_ns (gint64 rows, const LinePeriod &period)
{
  if (!period.valid () || rows == 0)
    return 0;
  if (rows > 0)
    return static_cast<gint64> (gst_util_uint64_scale (static_cast<guint64> (rows),
            period.num, period.den));
  return -static_cast<gint64> (gst_util_uint64_scale_ceil (static_cast<guint64> (-rows),
          period.num, period.den));
}

LinePeriod
PeriodEstimator::observe (GstClockTime pts, GstClockTime duration, guint rows,
    const LinePeriod &caps_period)
{
  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (prev_pts_)
      && pts > prev_pts_ && prev_rows_ > 0)
    measured_ = LinePeriod { pts - prev_pts_, prev_rows_ };
  prev_pts_ = pts;
  prev_rows_ = rows;

  if (GST_CLOCK_TIME_IS_VALID (duration) && duration > 0 && rows > 0)
    return LinePeriod { duration, rows };
  if (caps_period.valid ())
    return caps_period;
  return measured_;
}

std::vector<RejectRequest>
requests_from_meta (const GstPrnAnomalyMeta &meta, bool anomalous_only,
    GstClockTime buffer_rt, guint rows)
{
  std::vector<RejectRequest> requests;
  if (anomalous_only && !meta.anomalous)
    return requests;
  RejectRequest req;
  req.buffer_rt = buffer_rt;
  req.row_offset = meta.row_offset;
  for (guint i = 0; meta.regions != nullptr && i < meta.regions->len; i++) {
    const GstPrnRegion &r = g_array_index (meta.regions, GstPrnRegion, i);
    req.web_row = r.web_row;
    req.rows = r.height > 0 ? static_cast<guint64> (r.height) : 1;
    req.x = r.x;
    req.width = r.width;
    requests.push_back (req);
  }
  if (requests.empty () && anomalous_only) {
    req.web_row = meta.row_offset;
    req.rows = rows > 0 ? rows : 1;
    req.x = 0;
    req.width = static_cast<gint> (std::lround (meta.heatmap_width * meta.heatmap_scale_x));
    requests.push_back (req);
  }
  return requests;
}

PulseWindow
plan_window (const RejectRequest &req, const LinePeriod &period, const RejectConfig &cfg)
{
  PulseWindow w;
  if (!GST_CLOCK_TIME_IS_VALID (req.buffer_rt))
    return w;

  /* Rows from the buffer's first row to the defect's first row (negative for a
   * region that began in an earlier buffer), plus the ejector distance in rows,
   * in one exact scaling. */
  gint64 rows = static_cast<gint64> (req.web_row) - static_cast<gint64> (req.row_offset);
  gint64 extra_ns = 0;
  if (cfg.distance_ns >= 0)
    extra_ns = cfg.distance_ns;
  else
    rows += static_cast<gint64> (cfg.distance_rows);
  gint64 due = static_cast<gint64> (req.buffer_rt) + rows_to_ns (rows, period) + extra_ns;
  due = std::max<gint64> (due, 0);

  GstClockTime length = cfg.pulse_ns;
  if (cfg.cover_defect) {
    const gint64 pass = rows_to_ns (static_cast<gint64> (req.rows), period);
    length = std::max<GstClockTime> (length, static_cast<GstClockTime> (pass));
  }
  length = std::max<GstClockTime> (length, 1);

  w.due = static_cast<GstClockTime> (due);
  w.start = w.due > cfg.lead_ns ? w.due - cfg.lead_ns : 0;
  w.end = w.start + length;
  return w;
}

static void
unite (Pulse &p, const Pulse &q)
{
  p.start = std::min (p.start, q.start);
  p.end = std::max (p.end, q.end);
  p.row_first = std::min (p.row_first, q.row_first);
  p.row_last = std::max (p.row_last, q.row_last);
  p.x0 = std::min (p.x0, q.x0);
  p.x1 = std::max (p.x1, q.x1);
  p.count += q.count;
}

/* Whether [s, e) overlaps p or comes closer to it than gap. */
static bool
touches (const Pulse &p, GstClockTime s, GstClockTime e, GstClockTime gap)
{
  return p.start < e + gap && s < p.end + gap;
}

PulsePlanner::AddResult
PulsePlanner::add (const PulseWindow &w, const RejectRequest &req, GstClockTime now,
    GstClockTime min_gap)
{
  AddResult result;
  Pulse incoming;
  incoming.start = w.start;
  incoming.end = w.end;
  incoming.row_first = req.web_row;
  incoming.row_last = req.web_row + std::max<guint64> (req.rows, 1);
  incoming.x0 = req.x;
  incoming.x1 = req.x + std::max (req.width, 0);
  incoming.count = 1;

  /* The actuator rests min_gap after a release. */
  if (GST_CLOCK_TIME_IS_VALID (last_release_) && incoming.start < last_release_ + min_gap) {
    const GstClockTime guard = last_release_ + min_gap;
    if (guard >= incoming.end) {
      result.absorbed = true;
      return result;
    }
    incoming.start = guard;
  }

  auto it = std::find_if (pulses_.begin (), pulses_.end (), [&] (const Pulse &p) {
        return touches (p, incoming.start, incoming.end, min_gap);
      });
  Pulse *target;
  if (it == pulses_.end ()) {
    incoming.id = next_id_++;
    auto pos = std::find_if (pulses_.begin (), pulses_.end (), [&] (const Pulse &p) {
          return p.start > incoming.start;
        });
    target = &*pulses_.insert (pos, incoming);
  } else {
    target = &*it;
    if (target->state == Pulse::ACTIVE)
      incoming.start = target->start;   /* an active pulse keeps its start */
    unite (*target, incoming);
  }

  /* The grown pulse may now reach the next pending ones: merge them in. */
  const guint64 id = target->id;
  for (;;) {
    Pulse *t = find_mut (id);
    auto next = std::find_if (pulses_.begin (), pulses_.end (), [&] (const Pulse &p) {
          return p.id != id && p.state == Pulse::PENDING
              && touches (p, t->start, t->end, min_gap);
        });
    if (next == pulses_.end ())
      break;
    Pulse other = *next;
    if (t->state == Pulse::ACTIVE)
      other.start = t->start;
    unite (*t, other);
    pulses_.erase (next);
  }

  std::stable_sort (pulses_.begin (), pulses_.end (), [] (const Pulse &a, const Pulse &b) {
        return a.start < b.start;
      });
  Pulse *t = find_mut (id);
  if (t->state == Pulse::PENDING && GST_CLOCK_TIME_IS_VALID (now) && t->start < now)
    t->late = true;
  result.id = id;
  result.late = t->state == Pulse::PENDING && t->late;
  return result;
}

const Pulse *
PulsePlanner::fire (guint64 id, GstClockTime now)
{
  Pulse *p = find_mut (id);
  if (p == nullptr || p->state != Pulse::PENDING)
    return nullptr;
  p->state = Pulse::ACTIVE;
  p->fired_at = GST_CLOCK_TIME_IS_VALID (now) ? std::max (now, p->start) : p->start;
  p->end = p->fired_at + (p->end - p->start);
  return p;
}

bool
PulsePlanner::release (guint64 id, GstClockTime now)
{
  auto it = std::find_if (pulses_.begin (), pulses_.end (), [&] (const Pulse &p) {
        return p.id == id && p.state == Pulse::ACTIVE;
      });
  if (it == pulses_.end ())
    return false;
  last_release_ = GST_CLOCK_TIME_IS_VALID (now) ? now : it->end;
  pulses_.erase (it);
  return true;
}

GstClockTime
PulsePlanner::next_event (const Pulse &p)
{
  return p.state == Pulse::PENDING ? p.start : p.end;
}

const Pulse *
PulsePlanner::find (guint64 id) const
{
  for (const Pulse &p : pulses_)
    if (p.id == id)
      return &p;
  return nullptr;
}

Pulse *
PulsePlanner::find_mut (guint64 id)
{
  for (Pulse &p : pulses_)
    if (p.id == id)
      return &p;
  return nullptr;
}

void
PulsePlanner::clear ()
{
  pulses_.clear ();
  last_release_ = GST_CLOCK_TIME_NONE;
}

}  // namespace prn
