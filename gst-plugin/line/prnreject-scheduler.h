/* prnline: prnreject's scheduling of pulses on the pipeline clock. A
 * PulsePlanner (prnreject-plan.h) decides the pulses; this class keeps one
 * single-shot async clock id per pulse (its start while pending, its end while
 * active), and hands a FIRE or RELEASE event to `output` when the clock gets
 * there. Events reach `output` one at a time, in order (a pulse's release never
 * overtakes its fire); then, with no lock of the scheduler held, each event goes
 * to `notify` (for bus messages, whose sync handlers may change the element's
 * state). Thread-safe. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <map>
#include <vector>

#include "prnreject-output.h"
#include "prnreject-plan.h"

namespace prn {

struct RejectEvent {
  enum Kind { FIRE, RELEASE } kind = FIRE;
  FireRecord record;            /* FIRE only */
};

class RejectScheduler {
public:
  using Emit = std::function<void (const RejectEvent &)>;

  /* `owner` (the element) is kept alive by pending clock callbacks. */
  RejectScheduler (GstObject *owner, Emit output, Emit notify);
  ~RejectScheduler ();
  RejectScheduler (const RejectScheduler &) = delete;
  RejectScheduler &operator= (const RejectScheduler &) = delete;

  /* The element went to PLAYING with `clock` (nullptr: none, pulses then fire
   * at once) and `base_time`: schedules the pulses planned so far. */
  void play (GstClock *clock, GstClockTime base_time);
  /* PLAYING to PAUSED: unschedules, keeps the pulses for the next play(). */
  void pause ();

  /* The clock's running time now; GST_CLOCK_TIME_NONE when not playing. */
  GstClockTime now ();

  /* Plans `requests` (windows from plan_window). Late pulses fire at once.
   * Returns the number of requests that made a pulse late. */
  guint add (const std::vector<std::pair<PulseWindow, RejectRequest>> &requests,
      GstClockTime min_gap);

  /* Forgets every pulse (flush, stop); active ones are released first. Also
   * wakes wait_idle(). */
  void cancel ();

  /* Blocks until every pulse has fired and ended. False when woken by cancel()
   * or interrupt() first. */
  bool wait_idle ();
  /* Makes wait_idle() return FALSE now and until resume() (state changes). */
  void interrupt ();
  void resume ();

  /* Pulses not yet ended (tests, debugging). */
  size_t pending ();

private:
  struct Scheduled {
    GstClockID id = nullptr;
    GstClockTime time = GST_CLOCK_TIME_NONE;
    bool start = true;
  };
  struct CallbackData;

  static gboolean on_clock (GstClock *clock, GstClockTime time, GstClockID id,
      gpointer user_data);
  static void free_data (gpointer data);

  /* Under lock_: brings the clock ids in line with the planner. */
  void reconcile ();
  void unschedule_all ();
  GstClockTime now_unlocked () const;
  /* Fires pulse `id` now (late or clockless) and, without a clock, releases it
   * at once; appends the events. */
  void fire_now (guint64 id, GstClockTime at, std::vector<RejectEvent> &out);
  RejectEvent fire_event (const Pulse &p) const;
  /* Called with lock_ held: takes emit_lock_, drops lock_, emits, drops
   * emit_lock_. */
  void emit_and_unlock (const std::vector<RejectEvent> &events);

  GstObject *owner_;
  Emit output_;
  Emit notify_;
  GMutex lock_;
  GCond idle_cond_;
  GRecMutex emit_lock_;
  PulsePlanner planner_;
  std::map<guint64, Scheduled> scheduled_;
  GstClock *clock_ = nullptr;
  GstClockTime base_time_ = 0;
  bool playing_ = false;
  bool interrupted_ = false;
  guint64 cancel_count_ = 0;
};

}  // namespace prn
