/* prnline: the timing and merging logic of prnreject, in plain C++ (no GObject, no
 * clock, no I/O) so that it can be tested on its own.
 *
 * Times are nanoseconds of running time (GstClockTime); GST_CLOCK_TIME_NONE is
 * "unknown". The line period (the time one web row takes to pass the camera line)
 * is kept as a fraction `num / den` ns per row, so that row offsets convert to
 * times exactly (10 ms buffers of 64 rows: 156250 ns per row, no rounding drift). */
#pragma once

#include <gst/gst.h>
#include <prnanomaly/gstprnanomalymeta.h>

#include <cstdint>
#include <vector>

namespace prn {

/* ns per row = num / den; invalid while den == 0 or num == 0. */
struct LinePeriod {
  guint64 num = 0;
  guint64 den = 0;
  bool valid () const { return num > 0 && den > 0; }
};

/* `rows` rows of `period` in ns, rounded down (towards minus infinity for
 * negative rows, so that row arithmetic stays monotonic). */
gint64 rows_to_ns (gint64 rows, const LinePeriod &period);

/* The line period of one buffer, by precedence: the buffer's duration over its
 * rows; the caps' line rate (framerate * height); the PTS difference between the
 * previous buffer and this one over the previous buffer's rows (framerate 0/1
 * streams without durations). Invalid for the first such buffer: its rows can be
 * timed once the next buffer has come (the caller defers them). */
class PeriodEstimator {
public:
  LinePeriod observe (GstClockTime pts, GstClockTime duration, guint rows,
      const LinePeriod &caps_period);
  /* The period measured between the last two buffers (invalid before two). */
  LinePeriod measured () const { return measured_; }
  void reset () { *this = PeriodEstimator (); }

private:
  GstClockTime prev_pts_ = GST_CLOCK_TIME_NONE;
  guint prev_rows_ = 0;
  LinePeriod measured_;
};

/* Where the ejector is and how it pulses (the element's properties). */
struct RejectConfig {
  guint64 distance_rows = 0;    /* used when distance_ns < 0 */
  gint64 distance_ns = -1;      /* >= 0: distance-ms in ns, rows ignored */
  GstClockTime lead_ns = 0;
  GstClockTime pulse_ns = 50 * GST_MSECOND;
  GstClockTime min_gap_ns = 20 * GST_MSECOND;
  bool cover_defect = true;
};

/* One reject request: a defect's web rows [web_row, web_row + rows) and columns,
 * seen in a buffer whose first row (`row_offset`) passed the camera at running
 * time `buffer_rt`. */
struct RejectRequest {
  GstClockTime buffer_rt = GST_CLOCK_TIME_NONE;
  guint64 row_offset = 0;
  guint64 web_row = 0;
  guint64 rows = 1;
  gint x = 0;
  gint width = 0;
};

/* The requests of one buffer's meta, whose first row passed the camera at
 * `buffer_rt`: one per region (web rows [web_row, web_row + height), a height of
 * 0 counted as 1). With `anomalous_only`, none unless meta.anomalous, and one for
 * the buffer's `rows` rows and full width when an anomalous buffer has no region. */
std::vector<RejectRequest> requests_from_meta (const GstPrnAnomalyMeta &meta,
    bool anomalous_only, GstClockTime buffer_rt, guint rows);

/* The pulse a request asks for, in running time: [start, end). `due` is when
 * the defect's first row reaches the ejector (start = due - lead). */
struct PulseWindow {
  GstClockTime due = GST_CLOCK_TIME_NONE;
  GstClockTime start = GST_CLOCK_TIME_NONE;
  GstClockTime end = GST_CLOCK_TIME_NONE;
};

/* t_cam(web_row) = buffer_rt + (web_row - row_offset) * period;
 * due = t_cam + distance (rows * period, or ns); start = due - lead (>= 0);
 * length = max (pulse, cover_defect ? rows * period : 0). */
PulseWindow plan_window (const RejectRequest &req, const LinePeriod &period,
    const RejectConfig &cfg);

/* One actuator pulse, the union of the requests merged into it. */
struct Pulse {
  enum State { PENDING, ACTIVE };
  guint64 id = 0;
  State state = PENDING;
  GstClockTime start = 0, end = 0;   /* planned window (end > start) */
  GstClockTime fired_at = GST_CLOCK_TIME_NONE;   /* running time it started */
  guint64 row_first = 0, row_last = 0;           /* web rows [first, last) */
  gint x0 = 0, x1 = 0;                           /* columns [x0, x1) */
  guint count = 0;                               /* requests merged */
  bool late = false;
};

/* The pulses not yet released, in time order, at least min_gap apart. A request
 * whose window overlaps a pulse, or comes closer to it than min_gap, is merged
 * into it (windows and rows united, count summed); a merge may chain into the
 * next pulse. A request reaching into a pulse that has already started extends
 * it (the release moves). After a release, the next pulse starts min_gap later
 * at the earliest; a request wholly inside that guard is absorbed (counted on
 * nothing, `absorbed` is set). A pulse whose start is already past (`now`) when
 * it is planned or grown is late: it fires at once, keeping its length. */
class PulsePlanner {
public:
  struct AddResult {
    guint64 id = 0;             /* the pulse the request ended in; 0: absorbed */
    bool absorbed = false;
    bool late = false;          /* that pulse must fire now, late */
  };

  AddResult add (const PulseWindow &w, const RejectRequest &req, GstClockTime now,
      GstClockTime min_gap);

  /* Starts the pending pulse `id` at `now` (the clock reached its start, or it is
   * late). Returns nullptr when there is no such pending pulse (cancelled). */
  const Pulse *fire (guint64 id, GstClockTime now);

  /* Ends the active pulse `id` at `now`; false when there is none. */
  bool release (guint64 id, GstClockTime now);

  /* When the pulse should next change: start of a pending one, end of an active
   * one (for a late pulse: its start shifted to when it fired). */
  static GstClockTime next_event (const Pulse &p);

  const std::vector<Pulse> &pulses () const { return pulses_; }
  const Pulse *find (guint64 id) const;
  void clear ();                /* cancels everything (flush, stop) */

private:
  std::vector<Pulse> pulses_;
  guint64 next_id_ = 1;
  GstClockTime last_release_ = GST_CLOCK_TIME_NONE;
  Pulse *find_mut (guint64 id);
};

}  // namespace prn
