/* prnsave with GstHarness: frames built in code with a meta, saved to a real
 * temporary folder, read back with libpng (png_reader.h) and the JSON parser:
 * the files, what is saved, max-files, formats, failures, bad settings. The
 * queue and the EOS wait: test_save_queue.cpp. */
#include "reject_fixture.h"
#include "save_fixture.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace prntest;

TEST (Save, SavesAnomalousFramesAsPngHeatmapAndJson)
{
  TmpDir tmp;
  const std::string folder = tmp.file ("line7/defects");  /* created by the element */
  BusHolder bus;
  GstHarness *h = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", folder.c_str (), NULL);
      }, bus.bus);
  ASSERT_NE (h, nullptr);
  push_ok (h, saved_frame (false));                 /* normal: not saved */
  push_ok (h, saved_frame (true, { region_with (8, 3, 8, 2, 16, 0.95f) }));
  push_ok (h, pattern_frame ("GRAY8", W, H));       /* no meta: not saved */
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ())); /* waits for the queue */
  EXPECT_EQ (count (h, "saved"), 1u);
  EXPECT_EQ (count (h, "failed"), 0u);
  EXPECT_EQ (count (h, "dropped"), 0u);

  const std::vector<std::string> names = list_folder (folder);
  ASSERT_EQ (names.size (), 3u) << "frame, heatmap, JSON; no temporary file left";
  const std::regex pattern_name ("prn-\\d{8}T\\d{6}\\.\\d{3}Z-000000");
  const std::string base = names[1].substr (0, names[1].size () - 5);
  EXPECT_TRUE (std::regex_match (base, pattern_name)) << names[0];
  EXPECT_EQ (names[0], base + "-heatmap.png");
  EXPECT_EQ (names[1], base + ".json");
  EXPECT_EQ (names[2], base + ".png");

  /* One "prnsave-file" per set, then "prnsave" at EOS with the counts. */
  const std::vector<GstStructure *> messages = element_messages (bus.bus);
  ASSERT_EQ (messages.size (), 2u);
  EXPECT_TRUE (gst_structure_has_name (messages[0], "prnsave-file"));
  EXPECT_STREQ (gst_structure_get_string (messages[0], "image"), (folder + "/" + base + ".png").c_str ());
  EXPECT_STREQ (gst_structure_get_string (messages[0], "heatmap"),
      (folder + "/" + base + "-heatmap.png").c_str ());
  EXPECT_STREQ (gst_structure_get_string (messages[0], "json"), (folder + "/" + base + ".json").c_str ());
  EXPECT_TRUE (gst_structure_has_name (messages[1], "prnsave"));
  guint64 saved = 0, waiting = 1;
  EXPECT_TRUE (gst_structure_get_uint64 (messages[1], "saved", &saved));
  EXPECT_TRUE (gst_structure_get_uint64 (messages[1], "waiting", &waiting));
  EXPECT_EQ (saved, 1u);
  EXPECT_EQ (waiting, 0u);
  for (GstStructure *st : messages)
    gst_structure_free (st);

  const PngPixels frame = png_of (folder + "/" + base + ".png");
  ASSERT_EQ (frame.width, W);
  ASSERT_EQ (frame.height, H);
  EXPECT_EQ (frame.channels, 1);
  EXPECT_EQ (frame.depth, 8);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      ASSERT_EQ (frame.at (x, y), pattern (x, y, 0)) << "pixel " << x << "," << y;

  /* Jet: 0.95 is red (R ~180, G and B 0), 0.1 blue (B ~230); cells 4 px wide. */
  const PngPixels heat = png_of (folder + "/" + base + "-heatmap.png");
  ASSERT_EQ (heat.width, W);
  ASSERT_EQ (heat.height, H);
  ASSERT_EQ (heat.channels, 3);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const bool hot = x >= 8 && x < 16 && y >= 3 && y < 5;
      SCOPED_TRACE (std::to_string (x) + "," + std::to_string (y));
      EXPECT_EQ (heat.at (x, y, 0) > 150, hot);
      EXPECT_EQ (heat.at (x, y, 2) > 200, !hot);
    }

  Json j;
  ASSERT_TRUE (parse_json (read_text (folder + "/" + base + ".json"), j));
  expect_string (j["kind"], "buffer", "kind");
  EXPECT_TRUE (j["anomalous"].boolean);
  expect_float (j["score"], 0.9, "score");
  expect_int (j["row_offset"], 4096, "row_offset");
  expect_string (j["model_id"], "test-model", "model_id");
  expect_int (j["pts"], 2 * GST_SECOND, "pts");
  expect_string (j["image"], base + ".png", "image");
  expect_string (j["heatmap"], base + "-heatmap.png", "heatmap");
  ASSERT_EQ (j["regions"].items.size (), 1u);
  expect_region_object (j["regions"][0], region_with (8, 3, 8, 2, 16, 0.95f));
  gst_harness_teardown (h);
}

TEST (Save, WhatChoosesTheFrames)
{
  {
    TmpDir tmp;
    GstHarness *h = save_harness ([&] (GstElement *e) {
          g_object_set (e, "location", tmp.file ("d").c_str (), "heatmap", FALSE, NULL);
          gst_util_set_object_arg (G_OBJECT (e), "what", "regions");
        });
    ASSERT_NE (h, nullptr);
    push_ok (h, saved_frame (true));                                  /* no region ended */
    push_ok (h, saved_frame (false, { region_with (1, 1, 2, 2, 4, 0.6f) }));
    ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
    const std::vector<std::string> json = with_suffix (list_folder (tmp.file ("d")), ".json");
    ASSERT_EQ (json.size (), 1u);
    Json j;
    ASSERT_TRUE (parse_json (read_text (tmp.file ("d") + "/" + json[0]), j));
    EXPECT_EQ (j["anomalous"].type, Json::BOOL);
    EXPECT_FALSE (j["anomalous"].boolean) << "the frame with the region, not the anomalous one";
    EXPECT_EQ (j["heatmap"].type, Json::MISSING) << "heatmap=false writes none";
    EXPECT_EQ (list_folder (tmp.file ("d")).size (), 2u);
    gst_harness_teardown (h);
  }
  {
    TmpDir tmp;
    GstHarness *h = save_harness ([&] (GstElement *e) {
          g_object_set (e, "location", tmp.file ("d").c_str (), NULL);
          gst_util_set_object_arg (G_OBJECT (e), "what", "buffers");
        });
    ASSERT_NE (h, nullptr);
    push_ok (h, saved_frame (false));
    push_ok (h, saved_frame (true));
    push_ok (h, pattern_frame ("GRAY8", W, H));
    ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
    EXPECT_EQ (count (h, "saved"), 2u) << "every buffer with a meta";
    EXPECT_EQ (with_suffix (list_folder (tmp.file ("d")), ".json").size (), 2u);
    gst_harness_teardown (h);
  }
}

TEST (Save, MaxFilesKeepsTheNewestSetsEarlierRunsIncluded)
{
  TmpDir tmp;
  const std::string d = tmp.file ("d");
  ASSERT_EQ (mkdir (d.c_str (), 0755), 0);
  /* Two sets of an earlier run; what a crash left of a third (a temporary file)
   * and a fourth (an image without its .json); files that are not sets of the
   * prefix "prn": another prefix's, one that only begins like it, notes. */
  const std::vector<std::string> others = { "cam2-20200101T000000.000Z-000000.json",
    "notes.txt", "prn-cam2-20200101T000000.000Z-000000.json", "prn-notes.json", "prn-notes.png",
    ".cam2-20200101T000002.000Z-000002.json.tmp-Q1w2E3" };
  for (const char *name : { "prn-20200101T000000.000Z-000000.png", "prn-20200101T000000.000Z-000000.json",
         "prn-20200101T000001.000Z-000001.png", "prn-20200101T000001.000Z-000001-heatmap.png",
         "prn-20200101T000001.000Z-000001.json", ".prn-20200101T000002.000Z-000002.png.tmp-a8Zq3x",
         "prn-20200101T000003.000Z-000003.png" })
    touch (d + "/" + name);
  for (const std::string &name : others)
    touch (d + "/" + name);

  GstHarness *h = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", d.c_str (), "max-files", 3u, NULL);
      });
  ASSERT_NE (h, nullptr);
  for (int i = 0; i < 3; i++)
    push_ok (h, saved_frame (true));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (count (h, "saved"), 3u);

  std::vector<std::string> names = list_folder (d);
  for (const std::string &name : others) {
    auto it = std::find (names.begin (), names.end (), name);
    ASSERT_NE (it, names.end ()) << name << " was deleted";
    names.erase (it);
  }
  ASSERT_EQ (names.size (), 3u * 3) << "3 sets of 3 files";
  const std::vector<std::string> sets = with_suffix (names, ".json");
  ASSERT_EQ (sets.size (), 3u);
  for (int i = 0; i < 3; i++) {
    const std::string &json = sets[i];
    EXPECT_EQ (json.find ("2020"), std::string::npos) << json << ": the earlier run's sets go first";
    EXPECT_NE (json.find (std::string ("-00000") + std::to_string (i) + ".json"), std::string::npos) << json;
  }
  gst_harness_teardown (h);

  /* A smaller max-files applies at the start, to what is there. */
  GstHarness *h2 = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", d.c_str (), "max-files", 1u, NULL);
      });
  ASSERT_NE (h2, nullptr);
  gst_harness_play (h2);
  const std::vector<std::string> left = with_suffix (list_folder (d), ".json");
  ASSERT_EQ (left.size (), 4u) << "cam2, prn-cam2, prn-notes and the newest set";
  EXPECT_NE (std::find_if (left.begin (), left.end (), [] (const std::string &n) {
        return n.find ("-000002.json") != std::string::npos; }), left.end ()) << "the newest set stays";
  gst_harness_teardown (h2);
}

namespace {

/* `frame` (an anomalous meta added) through a prnsave of `format`, `width` x H,
 * without heatmap: the one PNG it saved (empty when it saved none or more). */
PngPixels
save_one (GstBuffer *frame, const char *format, int width)
{
  TmpDir tmp;
  GstHarness *h = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", tmp.file ("d").c_str (), "heatmap", FALSE, NULL);
      }, nullptr, format, width, H);
  if (h == nullptr) {
    gst_buffer_unref (frame);
    return {};
  }
  add_save_meta (frame, H, true, {});
  push_ok (h, frame);
  EXPECT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  gst_harness_teardown (h);
  const std::vector<std::string> png = with_suffix (list_folder (tmp.file ("d")), ".png");
  EXPECT_EQ (png.size (), 1u);
  return png.size () == 1 ? png_of (tmp.file ("d") + "/" + png[0]) : PngPixels {};
}

}  // namespace

TEST (Save, Gray16AndRgbFormatsAreSavedExactly)
{
  /* 29 pixels wide: every format's rows are padded to 4 bytes, and the padding
   * must not be saved. */
  constexpr int OW = 29;
  /* GRAY16_LE: every 16 bits kept (high and low bytes differ). */
  {
    GstVideoInfo info;
    gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY16_LE, OW, H);
    ASSERT_GT (GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), OW * 2);
    GstBuffer *b = gst_buffer_new_allocate (nullptr, GST_VIDEO_INFO_SIZE (&info), nullptr);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < OW; x++)
        GST_WRITE_UINT16_LE (map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) + 2 * x, (y * OW + x) * 251 + 1);
    gst_buffer_unmap (b, &map);
    const PngPixels p = save_one (b, "GRAY16_LE", OW);
    EXPECT_EQ (p.depth, 16);
    EXPECT_EQ (p.channels, 1);
    ASSERT_EQ (p.width, OW);
    for (int i = 0; i < OW * H; i++)
      ASSERT_EQ (p.samples[i], i * 251 + 1) << "sample " << i;
  }
  /* GRAY8 and the packed RGB families: R, G, B in order; alpha kept, padding not. */
  for (const char *format : { "GRAY8", "RGB", "BGR", "BGRx", "xRGB", "RGBA", "ABGR" }) {
    SCOPED_TRACE (format);
    const PngPixels p = save_one (pattern_frame (format, OW, H), format, OW);
    const bool grey = std::string (format) == "GRAY8";
    const bool alpha = !grey && std::string (format).find ('A') != std::string::npos;
    ASSERT_EQ (p.channels, grey ? 1 : alpha ? 4 : 3);
    ASSERT_EQ (p.width, OW);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < OW; x++) {
        for (int c = 0; c < (grey ? 1 : 3); c++)
          ASSERT_EQ (p.at (x, y, c), pattern (x, y, c)) << x << "," << y << " channel " << c;
        if (alpha) {
          ASSERT_EQ (p.at (x, y, 3), 200 + y);
        }
      }
  }
}

TEST (Save, AFailedWriteIsCountedWarnedOnceAndTheStreamGoesOn)
{
  TmpDir tmp;
  const std::string d = tmp.file ("d");
  BusHolder bus;
  GstHarness *h = save_harness ([&] (GstElement *e) {
        g_object_set (e, "location", d.c_str (), NULL);
      }, bus.bus);
  ASSERT_NE (h, nullptr);
  gst_harness_play (h);
  /* The folder replaced by a file while playing: it cannot be made again. */
  ASSERT_EQ (rmdir (d.c_str ()), 0);
  touch (d);
  for (int i = 0; i < 3; i++)
    push_ok (h, saved_frame (true));  /* each buffer comes out */
  for (int i = 0; i < 250 && count (h, "failed") < 3; i++)
    std::this_thread::sleep_for (std::chrono::milliseconds (20));
  EXPECT_EQ (count (h, "failed"), 3u);
  ASSERT_EQ (unlink (d.c_str ()), 0) << "the file goes: the folder is made again";
  push_ok (h, saved_frame (true));
  ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
  EXPECT_EQ (count (h, "saved"), 1u);
  EXPECT_EQ (count (h, "failed"), 3u);
  EXPECT_EQ (count_warnings (bus.bus), 1) << "one warning per outage, not per frame";
  EXPECT_EQ (list_folder (d).size (), 3u) << "one set; nothing of the failures left";
  gst_harness_teardown (h);
}

TEST (Save, BadSettingsFailTheStartNamingThem)
{
  TmpDir tmp;
  const std::string file = tmp.file ("a-file");
  touch (file);
  expect_start_error ([] (GstElement *) {}, { "No folder", "location" }, "prnsave");
  expect_start_error ([&] (GstElement *e) { g_object_set (e, "location", file.c_str (), NULL); },
      { "location", file }, "prnsave");
  expect_start_error ([&] (GstElement *e) {
        g_object_set (e, "location", tmp.file ("d").c_str (), "prefix", "line/7", NULL);
      }, { "prefix", "line/7" }, "prnsave");
}
