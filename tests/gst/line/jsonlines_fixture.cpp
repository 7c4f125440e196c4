/* The fixtures of the prnjsonlines tests (see jsonlines_fixture.h). */
#include "jsonlines_fixture.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace prntest {

namespace {

constexpr int W = JSONLINES_WIDTH, H = JSONLINES_HEIGHT;
const char *const CAPS = "video/x-raw,format=GRAY8,width=16,height=8,framerate=0/1";

}  // namespace

TmpDir::TmpDir ()
{
  gchar *dir = g_dir_make_tmp ("prn-jsonlines-XXXXXX", nullptr);
  path_ = dir != nullptr ? dir : "";
  g_free (dir);
}

TmpDir::~TmpDir ()
{
  std::error_code ec;
  if (!path_.empty ())
    std::filesystem::remove_all (path_, ec);
}

std::string
read_text (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf ();
  return ss.str ();
}

std::vector<std::string>
read_lines (const std::string &path)
{
  const std::string text = read_text (path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size ()) {
    const size_t nl = text.find ('\n', start);
    EXPECT_NE (nl, std::string::npos) << "last line without newline in " << path;
    if (nl == std::string::npos)
      break;
    lines.push_back (text.substr (start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::vector<Json>
read_objects (const std::string &path)
{
  std::vector<Json> objects;
  for (const std::string &line : read_lines (path)) {
    Json j;
    EXPECT_TRUE (parse_json (line, j)) << "not valid JSON: " << line;
    EXPECT_EQ (j.type, Json::OBJECT) << line;
    objects.push_back (j);
  }
  return objects;
}

GstHarness *
passthrough_harness (const char *factory, const std::function<void (GstElement *)> &configure,
    GstBus *bus, const char *caps)
{
  GstElement *element = gst_element_factory_make (factory, nullptr);
  EXPECT_NE (element, nullptr) << factory << " not found on GST_PLUGIN_PATH";
  if (element == nullptr)
    return nullptr;
  configure (element);
  if (bus != nullptr)
    gst_element_set_bus (element, bus);
  GstHarness *h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_caps_str (h, caps != nullptr ? caps : CAPS, caps != nullptr ? caps : CAPS);
  return h;
}

int
count_warnings (GstBus *bus)
{
  int n = 0;
  while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING)) {
    n++;
    gst_message_unref (m);
  }
  return n;
}

GstHarness *
jsonlines_harness (const std::function<void (GstElement *)> &configure, GstBus *bus)
{
  return passthrough_harness ("prnjsonlines", configure, bus);
}

GstHarness *
jsonlines_harness (const std::string &location, const char *what)
{
  return jsonlines_harness ([&] (GstElement *e) {
        g_object_set (e, "location", location.c_str (), NULL);
        gst_util_set_object_arg (G_OBJECT (e), "what", what);
      });
}

GstBuffer *
meta_frame (GstClockTime pts, bool anomalous, const std::vector<GstPrnRegion> &regions,
    GstClockTime duration)
{
  GstBuffer *buffer = make_frame ("GRAY8", W, H, 0);
  GstPrnAnomalyMeta *meta = add_flat_meta (buffer, H);
  meta->anomalous = anomalous;
  if (!anomalous)
    meta->score = 0.25f;
  for (const GstPrnRegion &r : regions)
    gst_prn_anomaly_meta_add_region (meta, &r);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = duration;
  return buffer;
}

GstPrnRegion
region_with (gint x, gint y, gint width, gint height, guint64 area, float peak)
{
  GstPrnRegion r = region (x, y, width, height);
  r.area = area;
  r.peak = peak;
  return r;
}

void
push_shifted_segment (GstHarness *h)
{
  ASSERT_TRUE (push_time_segment (h, GST_SECOND, 10 * GST_SECOND));
}

void
expect_float (const Json &j, double want, const char *field)
{
  ASSERT_EQ (j.type, Json::NUMBER) << field;
  EXPECT_NEAR (j.num (), want, 1e-6) << field << ": " << j.text;
}

void
expect_int (const Json &j, long long want, const char *field)
{
  ASSERT_TRUE (j.is_integer ()) << field << ": " << j.text;
  EXPECT_EQ (j.integer (), want) << field;
}

void
expect_string (const Json &j, const std::string &want, const char *field)
{
  ASSERT_EQ (j.type, Json::STRING) << field;
  EXPECT_EQ (j.text, want) << field;
}

void
expect_region_fields (const Json &j, const GstPrnRegion &r)
{
  expect_int (j["x"], r.x, "x");
  expect_int (j["y"], r.y, "y");
  expect_int (j["width"], r.width, "width");
  expect_int (j["height"], r.height, "height");
  expect_int (j["area"], static_cast<long long> (r.area), "area");
  expect_float (j["score"], r.peak, "score");
}

void
expect_region_object (const Json &j, const GstPrnRegion &r)
{
  EXPECT_EQ (j.keys (), (std::vector<std::string> { "x", "y", "width", "height", "area",
              "score" }));
  expect_region_fields (j, r);
}

}  // namespace prntest
