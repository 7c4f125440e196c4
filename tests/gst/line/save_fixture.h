/* Fixtures of the prnsave tests: frames with a known pattern and a meta, a
 * harness around prnsave, the folder listed, PNG files read back, counts and
 * element messages. */
#pragma once

#include "jsonlines_fixture.h"
#include "png_reader.h"

#include <functional>
#include <string>
#include <vector>

namespace prntest {

/* The frames of these tests: W x H unless a test says otherwise. */
constexpr int W = 32, H = 8;

/* The names in `folder`, sorted; hidden ones (temporary files) included. */
std::vector<std::string> list_folder (const std::string &folder);

/* The names of `names` that end with `suffix`. */
std::vector<std::string> with_suffix (const std::vector<std::string> &names, const std::string &suffix);

/* Creates (or overwrites) a small file at `path`. */
void touch (const std::string &path);

/* The value of the sample of pixel (x, y), channel c, in the frames of these tests. */
int pattern (int x, int y, int c);

/* A frame of a packed 8-bit `format` with the pattern in R, G, B (grey: channel
 * 0) and alpha 200 + y. */
GstBuffer *pattern_frame (const char *format, int width, int height);

/* Adds a meta: the heatmap (W / 4 x rows cells, scale 4) hot (0.95) in columns
 * [8, 16) of rows 3 and 4, else 0.1; `anomalous` (score 0.9, else 0.2); `regions`. */
void add_save_meta (GstBuffer *buffer, int rows, bool anomalous, const std::vector<GstPrnRegion> &regions);

/* A W x H pattern frame of `format` with add_save_meta's meta, PTS 2 s. */
GstBuffer *saved_frame (bool anomalous, const std::vector<GstPrnRegion> &regions = {},
    const char *format = "GRAY8");

/* A harness around a prnsave set up by `configure`, caps `format` width x height. */
GstHarness *save_harness (const std::function<void (GstElement *)> &configure, GstBus *bus = nullptr,
    const char *format = "GRAY8", int width = W, int height = H);

/* The uint64 property `name` of the harness's element. */
guint64 count (GstHarness *h, const char *name);

/* The PNG file at `path`, failing the test when it cannot be read. */
PngPixels png_of (const std::string &path);

/* The structures of the element messages on `bus`, in order (popped; the caller frees them). */
std::vector<GstStructure *> element_messages (GstBus *bus);

}  // namespace prntest
