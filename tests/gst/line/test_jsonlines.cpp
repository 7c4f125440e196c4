/* prnjsonlines: what the element writes (region and buffer lines, their fields,
 * times and filters) and its passthrough; the output file is parsed back with a
 * small strict JSON parser (json_parser.h) and by Python's json. */
#include "jsonlines_fixture.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace prntest;

namespace {

constexpr int W = JSONLINES_WIDTH, H = JSONLINES_HEIGHT;

}  // namespace

TEST (JsonLines, OneLinePerRegionWithEveryField)
{
  TmpDir dir;
  const std::string path = dir.file ("regions.jsonl");
  GstHarness *h = jsonlines_harness (path, "regions");
  ASSERT_NE (h, nullptr);
  push_shifted_segment (h);

  const std::vector<GstPrnRegion> regions = { region_with (2, 1, 4, 3, 10, 0.95f),
    region_with (8, -5, 6, 7, 30, 0.7f) };
  push_ok (h, meta_frame (2 * GST_SECOND, true, regions));
  push_ok (h, make_frame ("GRAY8", W, H, 0));       /* no meta: nothing */
  push_ok (h, meta_frame (3 * GST_SECOND, true, {})); /* no regions: nothing */
  push_ok (h, meta_frame (4 * GST_SECOND, false, { region_with (0, 0, 1, 1, 1, 0.55f) }));

  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 3u);
  for (size_t i = 0; i < 2; i++) {
    SCOPED_TRACE (i);
    const Json &j = lines[i];
    const GstPrnRegion &r = regions[i];
    EXPECT_EQ (j.keys (), (std::vector<std::string> { "kind", "pts", "running_time",
                "row_offset", "x", "y", "width", "height", "area", "score", "buffer_score",
                "threshold", "model_id" }));
    expect_string (j["kind"], "region", "kind");
    expect_int (j["pts"], 2 * GST_SECOND, "pts");
    expect_int (j["running_time"], 11 * GST_SECOND, "running_time");
    expect_int (j["row_offset"], 4096 + r.y, "row_offset");
    expect_region_fields (j, r);
    expect_float (j["buffer_score"], 0.9, "buffer_score");
    expect_float (j["threshold"], 0.6, "threshold");
    expect_string (j["model_id"], "test-model", "model_id");
  }
  /* Regions are written whatever the buffer's verdict. */
  expect_int (lines[2]["pts"], 4 * GST_SECOND, "pts");
  expect_float (lines[2]["buffer_score"], 0.25, "buffer_score");
  gst_harness_teardown (h);
}

TEST (JsonLines, BufferLinesForEveryBufferWithAMeta)
{
  TmpDir dir;
  const std::string path = dir.file ("buffers.jsonl");
  GstHarness *h = jsonlines_harness (path, "buffers");
  ASSERT_NE (h, nullptr);

  const std::vector<GstPrnRegion> regions = { region_with (2, 1, 4, 3, 10, 0.95f),
    region_with (8, -5, 6, 7, 30, 0.7f) };
  push_ok (h, meta_frame (GST_SECOND, true, regions));
  push_ok (h, make_frame ("GRAY8", W, H, 0));       /* no meta: nothing */
  push_ok (h, meta_frame (2 * GST_SECOND, false, {}, 20 * GST_MSECOND));

  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 2u);
  const Json &a = lines[0];
  EXPECT_EQ (a.keys (), (std::vector<std::string> { "kind", "pts", "running_time", "duration",
              "row_offset", "rows", "score", "threshold", "anomalous", "regions",
              "model_id" }));
  expect_string (a["kind"], "buffer", "kind");
  expect_int (a["pts"], GST_SECOND, "pts");
  expect_int (a["running_time"], GST_SECOND, "running_time");
  expect_int (a["duration"], 40 * GST_MSECOND, "duration");
  expect_int (a["row_offset"], 4096, "row_offset");
  expect_int (a["rows"], H, "rows");
  expect_float (a["score"], 0.9, "score");
  expect_float (a["threshold"], 0.6, "threshold");
  ASSERT_EQ (a["anomalous"].type, Json::BOOL);
  EXPECT_TRUE (a["anomalous"].boolean);
  ASSERT_EQ (a["regions"].type, Json::ARRAY);
  ASSERT_EQ (a["regions"].items.size (), 2u);
  for (size_t i = 0; i < 2; i++) {
    SCOPED_TRACE (i);
    expect_region_object (a["regions"][i], regions[i]);
  }
  expect_string (a["model_id"], "test-model", "model_id");

  const Json &b = lines[1];
  expect_int (b["pts"], 2 * GST_SECOND, "pts");
  expect_int (b["duration"], 20 * GST_MSECOND, "duration");
  expect_float (b["score"], 0.25, "score");
  ASSERT_EQ (b["anomalous"].type, Json::BOOL);
  EXPECT_FALSE (b["anomalous"].boolean);
  ASSERT_EQ (b["regions"].type, Json::ARRAY);
  EXPECT_TRUE (b["regions"].items.empty ());
  gst_harness_teardown (h);
}

TEST (JsonLines, AnomalousBuffersOnly)
{
  TmpDir dir;
  const std::string path = dir.file ("anomalous.jsonl");
  GstHarness *h = jsonlines_harness (path, "anomalous-buffers");
  ASSERT_NE (h, nullptr);
  push_ok (h, meta_frame (1 * GST_SECOND, false, {}));
  push_ok (h, meta_frame (2 * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f) }));
  push_ok (h, make_frame ("GRAY8", W, H, 0));
  push_ok (h, meta_frame (3 * GST_SECOND, false, { region_with (1, 1, 2, 2, 4, 0.55f) }));
  push_ok (h, meta_frame (4 * GST_SECOND, true, {}));

  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 2u);
  expect_string (lines[0]["kind"], "buffer", "kind");
  expect_int (lines[0]["pts"], 2 * GST_SECOND, "pts");
  EXPECT_EQ (lines[0]["regions"].items.size (), 1u);
  expect_int (lines[1]["pts"], 4 * GST_SECOND, "pts");
  EXPECT_TRUE (lines[1]["anomalous"].boolean);
  gst_harness_teardown (h);
}

TEST (JsonLines, WhatChangesWhilePlaying)
{
  TmpDir dir;
  const std::string path = dir.file ("switch.jsonl");
  GstHarness *h = jsonlines_harness (path, "regions");
  ASSERT_NE (h, nullptr);
  push_ok (h, meta_frame (GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f) }));
  gst_util_set_object_arg (G_OBJECT (h->element), "what", "buffers");
  push_ok (h, meta_frame (2 * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f) }));

  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 2u);
  expect_string (lines[0]["kind"], "region", "kind");
  expect_string (lines[1]["kind"], "buffer", "kind");
  gst_harness_teardown (h);
}

TEST (JsonLines, UnknownTimesAreNull)
{
  TmpDir dir;
  for (const char *what : { "regions", "buffers" }) {
    SCOPED_TRACE (what);
    const std::string path = dir.file (what);
    GstHarness *h = jsonlines_harness (path, what);
    ASSERT_NE (h, nullptr);
    push_ok (h, meta_frame (GST_CLOCK_TIME_NONE, true, { region_with (1, 1, 2, 2, 4, 0.8f) },
            GST_CLOCK_TIME_NONE));
    gst_harness_teardown (h);

    const auto lines = read_objects (path);
    ASSERT_EQ (lines.size (), 1u);
    EXPECT_EQ (lines[0]["pts"].type, Json::NUL);
    EXPECT_EQ (lines[0]["running_time"].type, Json::NUL);
    if (std::string (what) == "buffers") {
      EXPECT_EQ (lines[0]["duration"].type, Json::NUL);
    }
  }
}

TEST (JsonLines, OutsideTheSegmentRunningTimeIsNull)
{
  TmpDir dir;
  const std::string path = dir.file ("clipped.jsonl");
  GstHarness *h = jsonlines_harness (path, "buffers");
  ASSERT_NE (h, nullptr);
  push_shifted_segment (h);
  push_ok (h, meta_frame (GST_SECOND / 2, true, {}));       /* before the segment's start */
  push_ok (h, meta_frame (GST_SECOND, true, {}));

  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 2u);
  expect_int (lines[0]["pts"], GST_SECOND / 2, "pts");
  EXPECT_EQ (lines[0]["running_time"].type, Json::NUL);
  expect_int (lines[1]["running_time"], 10 * GST_SECOND, "running_time");
  gst_harness_teardown (h);
}

TEST (JsonLines, ValidJsonForPythonWithAnAwkwardModelId)
{
  TmpDir dir;
  const std::string path = dir.file ("awkward.jsonl");
  const char *model_id = "q\"b\\s/ nl\n tab\t ctl\x01 \xc3\xbc \xe2\x82\xac bad\xff end";
  const std::string decoded = "q\"b\\s/ nl\n tab\t ctl\x01 \xc3\xbc \xe2\x82\xac bad"
      "\xef\xbf\xbd end";

  GstHarness *h = jsonlines_harness ([&] (GstElement *e) {
        g_object_set (e, "location", path.c_str (), NULL);
      });
  ASSERT_NE (h, nullptr);
  GstBuffer *in = meta_frame (GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f),
        region_with (3, 3, 2, 2, 4, 1e-7f) });
  gst_prn_anomaly_meta_set_model_id (gst_buffer_get_prn_anomaly_meta (in), model_id);
  push_ok (h, in);
  gst_util_set_object_arg (G_OBJECT (h->element), "what", "buffers");
  in = meta_frame (2 * GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f) });
  gst_prn_anomaly_meta_set_model_id (gst_buffer_get_prn_anomaly_meta (in), model_id);
  push_ok (h, in);
  gst_harness_teardown (h);

  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 3u);
  for (const Json &j : lines)
    expect_string (j["model_id"], decoded, "model_id");
  expect_float (lines[1]["score"], 1e-7, "score");

  const char *python = g_getenv ("PRN_TEST_PYTHON");
  if (python == nullptr || *python == '\0')
    GTEST_SKIP () << "PRN_TEST_PYTHON not set: checked with the C++ parser only";
  const char *script =
      "import json, sys\n"
      "text = open(sys.argv[1], encoding='utf-8').read()\n"
      "assert text.endswith('\\n')\n"
      "objs = [json.loads(l) for l in text.split('\\n')[:-1]]\n"
      "print(len(objs), json.dumps(sorted({o['kind'] for o in objs})),"
      " json.dumps(objs[0]['model_id']), objs[1]['score'], objs[2]['regions'][0]['area'])\n";
  const gchar *argv[] = { python, "-c", script, path.c_str (), nullptr };
  gchar *out = nullptr, *err = nullptr;
  gint status = -1;
  GError *error = nullptr;
  ASSERT_TRUE (g_spawn_sync (nullptr, const_cast<gchar **> (argv), nullptr,
          G_SPAWN_DEFAULT, nullptr, nullptr, &out, &err, &status, &error))
      << (error ? error->message : "");
  EXPECT_TRUE (g_spawn_check_wait_status (status, nullptr)) << err;
  EXPECT_EQ (std::string (out),
      "3 [\"buffer\", \"region\"] \"q\\\"b\\\\s/ nl\\n tab\\t ctl\\u0001 \\u00fc \\u20ac "
      "bad\\ufffd end\" 1e-07 4\n") << err;
  g_free (out);
  g_free (err);
}

TEST (JsonLines, PassthroughGivesTheSameBuffer)
{
  TmpDir dir;
  const std::string path = dir.file ("pass.jsonl");
  GstHarness *h = jsonlines_harness (path, "regions");
  ASSERT_NE (h, nullptr);
  EXPECT_TRUE (gst_base_transform_is_passthrough (GST_BASE_TRANSFORM (h->element)));

  for (bool with_meta : { true, false }) {
    SCOPED_TRACE (with_meta);
    GstBuffer *in = with_meta ? meta_frame (GST_SECOND, true, { region_with (1, 1, 2, 2, 4,
                0.8f) }) : make_frame ("GRAY8", W, H, 7);
    GstBuffer *reference = gst_buffer_copy_deep (in);
    gst_buffer_ref (in);        /* not writable: a copy would be a new buffer */
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    EXPECT_EQ (out, in);
    EXPECT_TRUE (same_bytes (out, reference));
    EXPECT_EQ (gst_buffer_get_prn_anomaly_meta (out) != nullptr, with_meta);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
    gst_buffer_unref (reference);
  }
  gst_harness_teardown (h);
  EXPECT_EQ (read_lines (path).size (), 1u);
}
