/* prnwebsrc: image playback row by row, generated webs equal to
 * prn::data::render_linescan_web, timestamps and caps, truth files, loop,
 * num-buffers, is-live pacing and errors, with GstHarness and real pipelines. */
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <prn/data/linescan.h>

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

class GstEnvironment : public ::testing::Environment {
public:
  void SetUp () override { gst_init (nullptr, nullptr); }
};

[[maybe_unused]] const auto *const gst_environment =
    ::testing::AddGlobalTestEnvironment (new GstEnvironment);

}  // namespace

/* A fresh folder per test, removed afterwards. Outside the anonymous
 * namespace: the TEST_F classes derive from it. */
class WebSrc : public ::testing::Test {
protected:
  void SetUp () override
  {
    std::string tmpl = (fs::temp_directory_path () / "prn-websrc-XXXXXX").string ();
    ASSERT_NE (::mkdtemp (tmpl.data ()), nullptr);
    dir_ = tmpl;
  }
  void TearDown () override
  {
    std::error_code ec;
    fs::remove_all (dir_, ec);
  }
  std::string file (const std::string &name) const { return (fs::path (dir_) / name).string (); }

  std::string dir_;
};

namespace {

/* A W x H image of varied bytes, written as PNG; BGR (or grey) as OpenCV has it. */
cv::Mat
write_image (const std::string &path, int w, int h, bool colour)
{
  cv::Mat img (h, w, colour ? CV_8UC3 : CV_8UC1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * img.channels (); x++)
      img.ptr<uint8_t> (y)[x] = static_cast<uint8_t> ((x * 37 + y * 101 + (x * y) % 23) & 0xff);
  EXPECT_TRUE (cv::imwrite (path, img));
  return img;
}

/* The test texture of tests/data/test_linescan.cpp: a smooth grain. */
std::string
write_texture (const std::string &path)
{
  cv::Mat t (64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const int v = 110 + static_cast<int> (40 * std::sin (x * 0.39) * std::cos (y * 0.2) + (x * 7 + y * 13) % 17);
      t.at<cv::Vec3b> (y, x) = cv::Vec3b (static_cast<uint8_t> (v), static_cast<uint8_t> (v + 5),
          static_cast<uint8_t> (v + 10));
    }
  EXPECT_TRUE (cv::imwrite (path, t));
  return path;
}

uint8_t
luma (const uint8_t *rgb)
{
  return static_cast<uint8_t> ((rgb[0] * 4899 + rgb[1] * 9617 + rgb[2] * 1868 + 8192) >> 14);
}

/* A harness on a prnwebsrc; sink_caps restricts the format (nullptr: any). */
GstHarness *
harness (const char *sink_caps = nullptr)
{
  GstHarness *h = gst_harness_new ("prnwebsrc");
  if (sink_caps != nullptr)
    gst_harness_set_sink_caps_str (h, sink_caps);
  return h;
}

GstVideoInfo
negotiated (GstHarness *h)
{
  GstVideoInfo info;
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  EXPECT_NE (caps, nullptr);
  EXPECT_TRUE (caps != nullptr && gst_video_info_from_caps (&info, caps));
  if (caps != nullptr)
    gst_caps_unref (caps);
  return info;
}

/* Pulls events until EOS; false when none comes. */
bool
wait_eos (GstHarness *h)
{
  while (GstEvent *ev = gst_harness_pull_event (h)) {
    const bool eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
    if (eos)
      return true;
  }
  return false;
}

/* Pulls `n` buffers; checks row y of buffer b against expect(stream row, x, channel). */
template <typename Expect>
void
check_rows (GstHarness *h, int n, const Expect &expect)
{
  GstVideoInfo info;
  int w = 0, rows = 0, ch = 0;
  for (int b = 0; b < n; b++) {
    GstBuffer *buf = gst_harness_pull (h);
    ASSERT_NE (buf, nullptr) << "buffer " << b;
    if (b == 0) {               /* negotiated before the first buffer came */
      info = negotiated (h);
      w = GST_VIDEO_INFO_WIDTH (&info), rows = GST_VIDEO_INFO_HEIGHT (&info);
      ch = GST_VIDEO_INFO_FORMAT (&info) == GST_VIDEO_FORMAT_GRAY8 ? 1 : 3;
    }
    GstMapInfo map;
    ASSERT_TRUE (gst_buffer_map (buf, &map, GST_MAP_READ));
    ASSERT_EQ (map.size, GST_VIDEO_INFO_SIZE (&info));
    int bad = 0;
    for (int y = 0; y < rows; y++) {
      const uint8_t *row = map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
      for (int x = 0; x < w * ch; x++)
        if (row[x] != expect (static_cast<int64_t> (b) * rows + y, x / ch, x % ch) && bad++ < 3)
          ADD_FAILURE () << "buffer " << b << " row " << y << " byte " << x << ": " << int (row[x])
                         << " != " << int (expect (static_cast<int64_t> (b) * rows + y, x / ch, x % ch));
    }
    EXPECT_EQ (bad, 0) << "buffer " << b;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
}

std::string
read_file (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  return {std::istreambuf_iterator<char> (in), std::istreambuf_iterator<char> ()};
}

/* Runs "prnwebsrc name=src ... ! fakesink" to EOS or an error; returns the
 * error's message ("" at EOS) and the seconds from PLAYING to the end. */
std::string
run_pipeline (const std::string &desc, double *seconds = nullptr, GstClockTime *latency = nullptr)
{
  GError *err = nullptr;
  GstElement *pipe = gst_parse_launch (desc.c_str (), &err);
  EXPECT_EQ (err, nullptr) << (err ? err->message : "");
  if (pipe == nullptr)
    return "parse failed";
  const auto t0 = std::chrono::steady_clock::now ();
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
      static_cast<GstMessageType> (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (seconds != nullptr)
    *seconds = std::chrono::duration<double> (std::chrono::steady_clock::now () - t0).count ();
  std::string text = msg == nullptr ? "timeout" : "";
  if (msg != nullptr && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = nullptr;
    gst_message_parse_error (msg, &e, nullptr);
    text = e->message;
    g_error_free (e);
  }
  if (latency != nullptr) {
    GstQuery *q = gst_query_new_latency ();
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
    gboolean live = FALSE;
    *latency = GST_CLOCK_TIME_NONE;
    if (src != nullptr && gst_element_query (src, q))
      gst_query_parse_latency (q, &live, latency, nullptr);
    EXPECT_TRUE (live);
    gst_query_unref (q);
    if (src != nullptr)
      gst_object_unref (src);
  }
  if (msg != nullptr)
    gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  return text;
}

struct Truth {
  std::string kind;
  long x, y, width, height, area, loop;
};

std::vector<Truth>
parse_truth (const std::string &text)
{
  std::vector<Truth> out;
  size_t pos = 0;
  while (pos < text.size ()) {
    const size_t end = text.find ('\n', pos);
    EXPECT_NE (end, std::string::npos) << "a line without its newline";
    const std::string line = text.substr (pos, end - pos);
    Truth t;
    char kind[32] = {};
    int used = 0;
    EXPECT_EQ (std::sscanf (line.c_str (), "{\"kind\":\"%31[a-z]\",\"x\":%ld,\"y\":%ld,\"width\":%ld,"
            "\"height\":%ld,\"area\":%ld,\"loop\":%ld}%n", kind, &t.x, &t.y, &t.width, &t.height,
            &t.area, &t.loop, &used), 7) << line;
    EXPECT_EQ (static_cast<size_t> (used), line.size ()) << line;
    t.kind = kind;
    out.push_back (t);
    pos = end == std::string::npos ? text.size () : end + 1;
  }
  return out;
}

}  // namespace

TEST_F (WebSrc, ImageGrayRowExactAndEos)
{
  const std::string png = file ("grey.png");
  const cv::Mat img = write_image (png, 37, 100, false);   /* odd width: padded rows */
  GstHarness *h = harness ();
  g_object_set (h->element, "location", png.c_str (), "lines-per-buffer", 16, nullptr);
  gst_harness_play (h);
  check_rows (h, 6, [&] (int64_t r, int x, int) { return img.at<uint8_t> (static_cast<int> (r), x); });
  EXPECT_TRUE (wait_eos (h));
  EXPECT_EQ (gst_harness_buffers_received (h), 6u) << "the 4-line tail is dropped";
  const GstVideoInfo info = negotiated (h);
  EXPECT_EQ (GST_VIDEO_INFO_FORMAT (&info), GST_VIDEO_FORMAT_GRAY8) << "GRAY8 is preferred";
  EXPECT_EQ (GST_VIDEO_INFO_WIDTH (&info), 37);
  EXPECT_EQ (GST_VIDEO_INFO_HEIGHT (&info), 16);
  gst_harness_teardown (h);
}

TEST_F (WebSrc, ImageRgbAndGrayFromColour)
{
  const std::string png = file ("colour.png");
  const cv::Mat bgr = write_image (png, 21, 64, true);
  auto rgb_of = [&] (int64_t r, int x, int c) { return bgr.at<cv::Vec3b> (static_cast<int> (r), x)[2 - c]; };
  GstHarness *h = harness ("video/x-raw,format=RGB");
  g_object_set (h->element, "location", png.c_str (), "lines-per-buffer", 8, nullptr);
  gst_harness_play (h);
  check_rows (h, 8, rgb_of);
  EXPECT_TRUE (wait_eos (h));
  const GstVideoInfo info = negotiated (h);
  EXPECT_EQ (GST_VIDEO_INFO_FORMAT (&info), GST_VIDEO_FORMAT_RGB);
  gst_harness_teardown (h);

  h = harness ("video/x-raw,format=GRAY8");
  g_object_set (h->element, "location", png.c_str (), "lines-per-buffer", 8, nullptr);
  gst_harness_play (h);
  check_rows (h, 8, [&] (int64_t r, int x, int) {
    const uint8_t px[3] = {rgb_of (r, x, 0), rgb_of (r, x, 1), rgb_of (r, x, 2)};
    return luma (px);
  });
  gst_harness_teardown (h);
}

TEST_F (WebSrc, TimestampsAndFramerate)
{
  const std::string png = file ("t.png");
  write_image (png, 8, 64, false);
  struct Case { guint rate; gint rows; gint num, den; };
  for (const Case c : {Case{1000, 16, 125, 2}, Case{3, 2, 3, 2}, Case{0, 4, 0, 1}}) {
    GstHarness *h = harness ();
    g_object_set (h->element, "location", png.c_str (), "lines-per-buffer", c.rows, "line-rate",
        c.rate, nullptr);
    gst_harness_play (h);
    const int n = 64 / c.rows;
    GstClockTime next = 0;
    for (int b = 0; b < n; b++) {
      GstBuffer *buf = gst_harness_pull (h);
      ASSERT_NE (buf, nullptr);
      EXPECT_EQ (GST_BUFFER_OFFSET (buf), static_cast<guint64> (b));
      if (c.rate == 0) {
        EXPECT_FALSE (GST_BUFFER_PTS_IS_VALID (buf));
        EXPECT_FALSE (GST_BUFFER_DURATION_IS_VALID (buf));
      } else {
        const guint64 row = static_cast<guint64> (b) * c.rows;
        EXPECT_EQ (GST_BUFFER_PTS (buf), gst_util_uint64_scale (row, GST_SECOND, c.rate));
        EXPECT_EQ (GST_BUFFER_PTS (buf), next) << "contiguous";
        const double want = static_cast<double> (c.rows) * GST_SECOND / c.rate;
        EXPECT_LE (std::abs (static_cast<double> (GST_BUFFER_DURATION (buf)) - want), 1.0);
        next = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
      }
      gst_buffer_unref (buf);
    }
    const GstVideoInfo info = negotiated (h);
    EXPECT_EQ (GST_VIDEO_INFO_FPS_N (&info), c.num) << "line-rate " << c.rate;
    EXPECT_EQ (GST_VIDEO_INFO_FPS_D (&info), c.den) << "line-rate " << c.rate;
    gst_harness_teardown (h);
  }
}

TEST_F (WebSrc, GeneratedWebEqualsRenderAndTruth)
{
  const std::string tex = write_texture (file ("tex.png")), truth = file ("truth.jsonl");
  /* 500 lines of 200-line buffers: 400 played, the tail's defects left out of the truth. */
  const auto web = prn::data::render_linescan_web (tex, 192, 500, 64, 18, {"scratch", "hole", "fold"}, 5);
  const auto *rgb = web.rgb8.data_ptr<uint8_t> ();
  for (const char *format : {"GRAY8", "RGB"}) {
    GstHarness *h = harness ((std::string ("video/x-raw,format=") + format).c_str ());
    g_object_set (h->element, "texture", tex.c_str (), "width", 192, "web-lines", 500, "tile", 64,
        "defects", 18, "defect-kinds", "scratch, hole,fold", "seed", G_GUINT64_CONSTANT (5),
        "lines-per-buffer", 200, "truth-location", truth.c_str (), nullptr);
    gst_harness_play (h);
    const bool grey = std::string (format) == "GRAY8";
    check_rows (h, 2, [&] (int64_t r, int x, int c) {
      const uint8_t *px = rgb + (r * 192 + x) * 3;
      return grey ? luma (px) : px[c];
    });
    EXPECT_TRUE (wait_eos (h));
    EXPECT_EQ (gst_harness_buffers_received (h), 2u);
    gst_harness_teardown (h);
  }
  const auto lines = parse_truth (read_file (truth));
  size_t expected = 0;
  for (const auto &d : web.defects) {
    if (d.y + d.height > 400)
      continue;
    ASSERT_LT (expected, lines.size ());
    const Truth &t = lines[expected++];
    EXPECT_EQ (t.kind, d.kind);
    EXPECT_EQ (t.x, d.x);
    EXPECT_EQ (t.y, d.y);
    EXPECT_EQ (t.width, d.width);
    EXPECT_EQ (t.height, d.height);
    EXPECT_EQ (t.area, d.area);
    EXPECT_GT (t.area, 0);
    EXPECT_EQ (t.loop, 0);
  }
  EXPECT_EQ (lines.size (), expected);
  EXPECT_EQ (expected, 15u) << "every cell holds a defect; the last row of cells is dropped";
}

TEST_F (WebSrc, LoopContinuesRowsAndTimestamps)
{
  const std::string png = file ("loop.png"), truth = file ("loop.jsonl");
  const cv::Mat img = write_image (png, 12, 100, false);
  /* A sidecar is copied as it is. */
  const std::string side = "{\"kind\":\"spot\",\"x\":1,\"y\":2,\"width\":3,\"height\":4,\"area\":5,\"loop\":0}\n";
  std::ofstream (file ("loop.truth.jsonl")) << side;
  GstHarness *h = harness ();
  g_object_set (h->element, "location", png.c_str (), "lines-per-buffer", 16, "line-rate", 1600,
      "loop", TRUE, "num-buffers", 20, "truth-location", truth.c_str (), nullptr);
  gst_harness_play (h);
  check_rows (h, 20, [&] (int64_t r, int x, int) { return img.at<uint8_t> (static_cast<int> (r % 100), x); });
  EXPECT_TRUE (wait_eos (h));
  EXPECT_EQ (gst_harness_buffers_received (h), 20u) << "num-buffers";
  EXPECT_EQ (read_file (truth), side);
  gst_harness_teardown (h);

  h = harness ();
  g_object_set (h->element, "location", png.c_str (), "lines-per-buffer", 16, "line-rate", 1600,
      "loop", TRUE, nullptr);
  gst_harness_play (h);
  for (int b = 0; b < 13; b++) {
    GstBuffer *buf = gst_harness_pull (h);
    ASSERT_NE (buf, nullptr);
    EXPECT_EQ (GST_BUFFER_PTS (buf), static_cast<GstClockTime> (b) * 10 * GST_MSECOND);
    EXPECT_EQ (GST_BUFFER_DURATION (buf), 10 * GST_MSECOND);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);

  /* A generated web's truth with loop: the period is the web's length. */
  const std::string tex = write_texture (file ("tex.png"));
  h = harness ();
  g_object_set (h->element, "texture", tex.c_str (), "width", 128, "web-lines", 320, "tile", 64,
      "defects", 3, "loop", TRUE, "num-buffers", 7, "truth-location", truth.c_str (), nullptr);
  gst_harness_play (h);
  EXPECT_TRUE (wait_eos (h));
  EXPECT_EQ (gst_harness_buffers_received (h), 7u);
  const auto lines = parse_truth (read_file (truth));
  EXPECT_EQ (lines.size (), 3u);
  for (const auto &t : lines)
    EXPECT_EQ (t.loop, 320);
  gst_harness_teardown (h);
}

TEST_F (WebSrc, SystemTextureByName)
{
  if (prn::data::find_system_textures ().empty ())
    GTEST_SKIP () << "no system textures (scripts/setup.sh installs gimp-data)";
  bool burlap = false;
  for (const auto &p : prn::data::find_system_textures ())
    burlap = burlap || fs::path (p).filename () == "burlap.pat";
  if (!burlap)
    GTEST_SKIP () << "no burlap.pat";
  GstHarness *h = harness ();
  g_object_set (h->element, "texture", "Burlap.pat", "width", 256, "web-lines", 512, "tile", 128,
      "defects", 2, "num-buffers", 2, nullptr);
  gst_harness_play (h);
  GstBuffer *buf = gst_harness_pull (h);
  ASSERT_NE (buf, nullptr);
  EXPECT_EQ (gst_buffer_get_size (buf), 256u * 64u);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

TEST_F (WebSrc, LiveRunsAtTheLineRate)
{
  const std::string png = file ("live.png");
  write_image (png, 16, 100, false);
  double seconds = 0;
  GstClockTime latency = 0;
  /* 10 buffers of 50 lines at 1000 lines/s: 0.5 s. */
  EXPECT_EQ (run_pipeline ("prnwebsrc name=src location=" + png + " is-live=true loop=true "
                "line-rate=1000 lines-per-buffer=50 num-buffers=10 ! fakesink sync=true",
                &seconds, &latency), "");
  EXPECT_GE (seconds, 0.4);
  EXPECT_LT (seconds, 10.0);
  EXPECT_EQ (latency, 50 * GST_MSECOND);
  double fast = 0;
  EXPECT_EQ (run_pipeline ("prnwebsrc location=" + png + " loop=true line-rate=1000 "
                "lines-per-buffer=50 num-buffers=10 ! fakesink sync=false", &fast), "");
  EXPECT_LT (fast, seconds);
}

TEST_F (WebSrc, ErrorsNameWhatIsWrong)
{
  const std::string tex = write_texture (file ("tex.png")), png = file ("small.png");
  write_image (png, 8, 20, false);
  std::ofstream (file ("junk.png")) << "not an image";
  auto error = [] (const std::string &props) {
    return run_pipeline ("prnwebsrc " + props + " ! fakesink");
  };
  auto has = [] (const std::string &msg, const std::string &piece) {
    return msg.find (piece) != std::string::npos;
  };
  std::string m = error ("location=" + file ("missing.png"));
  EXPECT_TRUE (has (m, file ("missing.png")) && has (m, "does not exist")) << m;
  m = error ("location=" + file ("junk.png"));
  EXPECT_TRUE (has (m, file ("junk.png")) && has (m, "image")) << m;
  m = error ("texture=nosuchtexture");
  EXPECT_TRUE (has (m, "nosuchtexture")) << m;
  if (!prn::data::find_system_textures ().empty ()) {
    EXPECT_TRUE (has (m, "burlap") || has (m, "brick")) << "lists the textures: " << m;
  }
  m = error ("location=" + png + " texture=" + tex);
  EXPECT_TRUE (has (m, "not both")) << m;
  m = error ("");
  EXPECT_TRUE (has (m, "location") && has (m, "texture")) << m;
  m = error ("texture=" + tex + " width=100 tile=128");
  EXPECT_TRUE (has (m, "width 100") && has (m, "tile 128")) << m;
  m = error ("texture=" + tex + " width=128 web-lines=256 tile=64 defects=9");
  EXPECT_TRUE (has (m, "9 defects") && has (m, "defects=9")) << m;
  m = error ("texture=" + tex + " width=128 web-lines=256 tile=64 defect-kinds=scratch,dent");
  EXPECT_TRUE (has (m, "dent")) << m;
  m = error ("location=" + png + " lines-per-buffer=32");
  EXPECT_TRUE (has (m, "lines-per-buffer=32") && has (m, "20 lines")) << m;
  m = error ("texture=" + tex + " width=128 web-lines=256 tile=64 defects=2 truth-location="
      + file ("no/dir/t.jsonl"));
  EXPECT_TRUE (has (m, file ("no/dir/t.jsonl"))) << m;
  /* An image without a sidecar: a warning, and no truth file. */
  EXPECT_EQ (error ("location=" + png + " lines-per-buffer=4 truth-location=" + file ("t.jsonl")), "");
  EXPECT_FALSE (fs::exists (file ("t.jsonl")));
}
