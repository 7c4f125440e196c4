/* Fixtures of the prnjsonlines tests: a temporary directory, the output file
 * read back (as lines, or as JSON objects checked with json_parser.h), a harness
 * around the element, frames with a meta, and checks of JSON fields. */
#pragma once

#include "json_parser.h"
#include "test_helpers.h"

#include <functional>
#include <string>
#include <vector>

namespace prntest {

/* The frames of these tests: GRAY8, JSONLINES_WIDTH x JSONLINES_HEIGHT. */
constexpr int JSONLINES_WIDTH = 16, JSONLINES_HEIGHT = 8;

/* A temporary directory, removed with everything in it when destroyed. */
class TmpDir {
public:
  TmpDir ();
  ~TmpDir ();
  std::string file (const char *name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

std::string read_text (const std::string &path);

/* The file's lines; every line must end with '\n'. */
std::vector<std::string> read_lines (const std::string &path);

/* Parses every line of the file, failing the test on an invalid one. */
std::vector<Json> read_objects (const std::string &path);

/* A harness around an element of `factory` (prnjsonlines, prnmqtt, prnwebhook,
 * prnsave: passthroughs of the meta) set up by `configure` before it starts,
 * posting on `bus` when given; `caps` on both pads (nullptr: the GRAY8 caps of
 * these tests). nullptr when the element cannot be found. */
GstHarness *passthrough_harness (const char *factory,
    const std::function<void (GstElement *)> &configure, GstBus *bus = nullptr,
    const char *caps = nullptr);

/* How many WARNING messages `bus` holds (popped). */
int count_warnings (GstBus *bus);

/* A harness around a prnjsonlines set up by `configure` before it starts. */
GstHarness *jsonlines_harness (const std::function<void (GstElement *)> &configure,
    GstBus *bus = nullptr);

/* A harness around a prnjsonlines writing `what` to `location`. */
GstHarness *jsonlines_harness (const std::string &location, const char *what);

/* A GRAY8 frame with a meta like add_meta's (score 0.9, threshold 0.6, row_offset
 * 4096, model "test-model", a 4 x JSONLINES_HEIGHT heatmap), `anomalous`, and
 * `regions`. */
GstBuffer *meta_frame (GstClockTime pts, bool anomalous,
    const std::vector<GstPrnRegion> &regions, GstClockTime duration = 40 * GST_MSECOND);

GstPrnRegion region_with (gint x, gint y, gint width, gint height, guint64 area, float peak);

/* A segment with start 1 s, base 10 s: running time = pts - 1 s + 10 s. */
void push_shifted_segment (GstHarness *h);

/* Checks of a field `field` of a line: a number near `want`, an integer, a string. */
void expect_float (const Json &j, double want, const char *field);
void expect_int (const Json &j, long long want, const char *field);
void expect_string (const Json &j, const std::string &want, const char *field);

/* x, y, width, height, area and score of `j` are those of `r` (score: its peak). */
void expect_region_fields (const Json &j, const GstPrnRegion &r);

/* A region object of a buffer line: exactly x, y, width, height, area, score. */
void expect_region_object (const Json &j, const GstPrnRegion &r);

}  // namespace prntest
