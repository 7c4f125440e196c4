#include "save_fixture.h"

#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <fstream>

namespace prntest {

/* The names in `folder`, sorted; hidden ones (temporary files) included. */
std::vector<std::string>
list_folder (const std::string &folder)
{
  std::vector<std::string> names;
  if (DIR *d = opendir (folder.c_str ())) {
    while (const dirent *e = readdir (d))
      if (std::string (e->d_name) != "." && std::string (e->d_name) != "..")
        names.push_back (e->d_name);
    closedir (d);
  }
  std::sort (names.begin (), names.end ());
  return names;
}

std::vector<std::string>
with_suffix (const std::vector<std::string> &names, const std::string &suffix)
{
  std::vector<std::string> out;
  for (const std::string &n : names)
    if (n.size () >= suffix.size () && n.compare (n.size () - suffix.size (), suffix.size (), suffix) == 0)
      out.push_back (n);
  return out;
}

void
touch (const std::string &path)
{
  std::ofstream (path) << "x";
}

/* The value of the sample of pixel (x, y), channel c, in the frames of these tests. */
int
pattern (int x, int y, int c)
{
  return (x * 7 + y * 13 + c * 50) & 0xff;
}

/* A frame of a packed 8-bit `format` with the pattern in R, G, B (grey: channel
 * 0) and alpha 200 + y. */
GstBuffer *
pattern_frame (const char *format, int width, int height)
{
  return make_frame_with (format, width, height, [] (int x, int y, int c) {
        return static_cast<guint8> (c == GST_VIDEO_COMP_A ? 200 + y : pattern (x, y, c));
      });
}

/* Adds a meta: the heatmap (W / 4 x rows cells, scale 4) hot (0.95) in columns
 * [8, 16) of rows 3 and 4, else 0.1; `anomalous`; `regions`. */
void
add_save_meta (GstBuffer *buffer, int rows, bool anomalous, const std::vector<GstPrnRegion> &regions)
{
  const std::vector<float> heat = make_heatmap (W / 4, rows, 0.1f, 2, 4, 3, 5, 0.95f);
  GstPrnAnomalyMeta *meta = add_meta (buffer, 0.5f, heat, W / 4, rows, 4.0f);
  meta->anomalous = anomalous;
  meta->score = anomalous ? 0.9f : 0.2f;
  for (const GstPrnRegion &r : regions)
    gst_prn_anomaly_meta_add_region (meta, &r);
}

GstBuffer *
saved_frame (bool anomalous, const std::vector<GstPrnRegion> &regions, const char *format)
{
  GstBuffer *b = pattern_frame (format, W, H);
  add_save_meta (b, H, anomalous, regions);
  GST_BUFFER_PTS (b) = 2 * GST_SECOND;
  return b;
}

GstHarness *
save_harness (const std::function<void (GstElement *)> &configure, GstBus *bus,
    const char *format, int width, int height)
{
  return passthrough_harness ("prnsave", configure, bus, video_caps (format, width, height).c_str ());
}

guint64
count (GstHarness *h, const char *name)
{
  guint64 v = 0;
  g_object_get (h->element, name, &v, NULL);
  return v;
}

PngPixels
png_of (const std::string &path)
{
  PngPixels p;
  std::string error;
  EXPECT_TRUE (read_png (path, p, error)) << error;
  return p;
}

/* The structures of the element messages on `bus`, in order (popped). */
std::vector<GstStructure *>
element_messages (GstBus *bus)
{
  std::vector<GstStructure *> out;
  while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) {
    out.push_back (gst_structure_copy (gst_message_get_structure (m)));
    gst_message_unref (m);
  }
  return out;
}

}  // namespace prntest
