/* Helpers of the prnline GStreamer tests: frames built in code, metas, pixels. */
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <prnanomaly/gstprnanomalymeta.h>

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace prntest {

using Rgb = std::array<int, 3>;

/* "video/x-raw,format=F,width=W,height=H,framerate=0/1" */
std::string video_caps (const char *format, int width, int height);

/* A frame of `format` (8-bit packed RGB family or GRAY8), every pixel `grey`
 * (alpha/padding bytes 255). */
GstBuffer *make_frame (const char *format, int width, int height, guint8 grey);

/* A frame of `format` (8-bit packed RGB family or GRAY8) whose component c of
 * pixel (x, y) is value (x, y, c) (c: GST_VIDEO_COMP_R, G, B, A; grey: 0);
 * padding bytes 255. */
GstBuffer *make_frame_with (const char *format, int width, int height,
    const std::function<guint8 (int, int, int)> &value);

/* A heatmap of `cols` x `rows` cells, all `background`, then the cells of
 * [c0, c1) x [r0, r1) set to `hot`. */
std::vector<float> make_heatmap (guint cols, guint rows, float background,
    guint c0, guint c1, guint r0, guint r1, float hot);

/* Adds a meta with thresholds, the heatmap (copied into a GBytes) and a model id. */
GstPrnAnomalyMeta *add_meta (GstBuffer *buffer, float pixel_threshold,
    const std::vector<float> &heat, guint cols, guint rows, float scale_x);

/* add_meta with pixel threshold 0.5 and a flat heatmap of 4 x rows cells at 0.1,
 * scale 4 (a 16-pixel-wide frame); no regions. */
GstPrnAnomalyMeta *add_flat_meta (GstBuffer *buffer, guint rows);

GstPrnRegion region (gint x, gint y, gint width, gint height);

/* The R, G, B of every pixel of a packed RGB-family buffer, row-major. */
std::vector<Rgb> read_rgb (GstBuffer *buffer, const char *format, int width, int height);

/* Byte-for-byte equality of the buffers' memory. */
bool same_bytes (GstBuffer *a, GstBuffer *b);

/* A harness around prnoverlay with fixed caps on both pads; nullptr when the
 * element cannot be found. */
GstHarness *overlay_harness (const char *format, int width, int height);

/* Pushes `buffer` into `h`, expects it back, drops it. */
void push_ok (GstHarness *h, GstBuffer *buffer);

/* Pushes a TIME segment with `start` (and time) and `base`: running time =
 * pts - start + base. False when the event is refused. */
bool push_time_segment (GstHarness *h, GstClockTime start = 0, GstClockTime base = 0);

/* Counts GLib log messages of a domain at WARNING/CRITICAL level while alive. */
class LogCounter {
public:
  explicit LogCounter (const char *domain);
  ~LogCounter ();
  int count () const { return count_; }

private:
  static void handler (const gchar *, GLogLevelFlags, const gchar *, gpointer self);
  const char *domain_;
  guint id_;
  int count_ = 0;
};

}  // namespace prntest
