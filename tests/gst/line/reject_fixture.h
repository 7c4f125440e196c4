/* Fixtures of the prnreject tests: buffers of web rows with defects as regions,
 * a harness with its GstTestClock, the "prnreject" fire messages parsed, flat JSON
 * objects (UDP datagrams, stdout lines) read back, and start errors. */
#pragma once

#include "test_helpers.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace prntest {

/* The line period of web_buffer's frames: 10 ms / 64 rows. */
constexpr GstClockTime REJECT_ROW = 156250;

/* A defect: `height` web rows from `web_row`, columns [x, x + width). */
struct Defect {
  guint64 web_row;
  gint height;
  gint x = 2, width = 6;
};

/* A GRAY8 16 x rows frame of web rows [row_offset, row_offset + rows) with a meta
 * and `defects` as regions; duration 10 ms per 64 rows unless given. */
GstBuffer *web_buffer (GstClockTime pts, guint64 row_offset, const std::vector<Defect> &defects,
    int rows = 64, GstClockTime duration = GST_CLOCK_TIME_NONE, bool anomalous = true);

/* A harness around a prnreject set up by `configure`, its messages on `bus`; it
 * uses a GstTestClock. nullptr when the element cannot be found. */
GstHarness *reject_harness (const std::function<void (GstElement *)> &configure, GstBus *bus);

/* The time of the harness' test clock's next pending id. */
GstClockTime next_clock_time (GstHarness *h);

/* How many ids wait on the harness' test clock. */
guint pending_ids (GstHarness *h);

/* The next "prnreject" element message, or nullptr. */
GstStructure *pop_fire (GstBus *bus, GstClockTime timeout = 0);

/* The fields of a "prnreject" fire message. */
struct Fire {
  guint64 fire_time = 0, due_time = 0, row_offset = 0, rows = 0;
  gint x = 0, width = 0;
  double pulse_ms = 0;
  gboolean late = FALSE;
  guint count = 0;
};

/* The fields of `s`, which it frees. */
Fire parse_fire (GstStructure *s);

/* Cranks the next clock id and returns the fire message it posted. */
Fire crank_fire (GstHarness *h, GstBus *bus, GstClockTime expected_time);

/* A flat JSON object's members as raw text ("true", "12", "\"reject\""). */
std::map<std::string, std::string> flat_json (const std::string &text);

/* A bus of its own for a test, unreffed at the end of the scope. */
class BusHolder {
public:
  BusHolder () : bus (gst_bus_new ()) {}
  ~BusHolder () { gst_object_unref (bus); }
  GstBus *bus;
};

/* Starting an element of `factory` set up by `configure` fails with a RESOURCE
 * error whose message and debug text together contain every one of `words`. */
void expect_start_error (const std::function<void (GstElement *)> &configure,
    const std::vector<std::string> &words, const char *factory = "prnreject");

}  // namespace prntest
