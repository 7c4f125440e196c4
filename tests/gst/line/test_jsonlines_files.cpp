/* prnjsonlines' output file: truncate or append, flush, errors opening and
 * writing it, and stdout for location "-". */
#include "jsonlines_fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

using namespace prntest;

namespace {

constexpr int W = JSONLINES_WIDTH, H = JSONLINES_HEIGHT;

}  // namespace

TEST (JsonLines, TruncatesOrAppends)
{
  TmpDir dir;
  const std::string path = dir.file ("append.jsonl");
  {
    std::ofstream old (path);
    old << "{\"old\":1}\n";
  }
  for (bool append : { false, true }) {
    GstHarness *h = jsonlines_harness ([&] (GstElement *e) {
          g_object_set (e, "location", path.c_str (), "append", append, NULL);
        });
    ASSERT_NE (h, nullptr);
    push_ok (h, meta_frame (append ? 2 * GST_SECOND : GST_SECOND, true,
            { region_with (1, 1, 2, 2, 4, 0.8f) }));
    gst_harness_teardown (h);
  }
  const auto lines = read_objects (path);
  ASSERT_EQ (lines.size (), 2u);       /* the old line truncated away, then one appended */
  expect_int (lines[0]["pts"], GST_SECOND, "pts");
  expect_int (lines[1]["pts"], 2 * GST_SECOND, "pts");
}

TEST (JsonLines, FlushWritesEachBufferAtOnce)
{
  TmpDir dir;
  for (bool flush : { true, false }) {
    SCOPED_TRACE (flush);
    const std::string path = dir.file (flush ? "flush" : "noflush");
    GstHarness *h = jsonlines_harness ([&] (GstElement *e) {
          g_object_set (e, "location", path.c_str (), "flush", flush, NULL);
        });
    ASSERT_NE (h, nullptr);
    push_ok (h, meta_frame (GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f) }));
    /* A few short lines stay in stdio's buffer without flush. */
    EXPECT_EQ (read_lines (path).size (), flush ? 1u : 0u);
    ASSERT_TRUE (gst_harness_push_event (h, gst_event_new_eos ()));
    EXPECT_EQ (read_lines (path).size (), 1u) << "EOS flushes";
    gst_harness_teardown (h);
    EXPECT_EQ (read_objects (path).size (), 1u);
  }
}

TEST (JsonLines, UnwritableLocationIsAnErrorNamingThePath)
{
  TmpDir dir;
  for (const std::string &path : { dir.file ("no-such-dir/out.jsonl"), dir.file ("") }) {
    SCOPED_TRACE (path);
    GstElement *element = gst_element_factory_make ("prnjsonlines", nullptr);
    ASSERT_NE (element, nullptr);
    gst_object_ref_sink (element);
    GstBus *bus = gst_bus_new ();
    gst_element_set_bus (element, bus);
    g_object_set (element, "location", path.c_str (), NULL);

    EXPECT_EQ (gst_element_set_state (element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    ASSERT_NE (msg, nullptr);
    GError *error = nullptr;
    gchar *debug = nullptr;
    gst_message_parse_error (msg, &error, &debug);
    EXPECT_TRUE (g_error_matches (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE))
        << error->message;
    EXPECT_EQ (std::string (error->message), "Could not open \"" + path + "\" for writing.");
    EXPECT_NE (debug, nullptr);
    EXPECT_EQ (GST_MESSAGE_SRC (msg), GST_OBJECT (element));
    g_clear_error (&error);
    g_free (debug);
    gst_message_unref (msg);

    EXPECT_EQ (gst_element_set_state (element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_element_set_bus (element, nullptr);
    gst_object_unref (bus);
    gst_object_unref (element);
  }
}

TEST (JsonLines, WriteErrorStopsTheStream)
{
  if (!g_file_test ("/dev/full", G_FILE_TEST_EXISTS))
    GTEST_SKIP () << "no /dev/full";
  GstBus *bus = gst_bus_new ();
  GstHarness *h = jsonlines_harness ([] (GstElement *e) {
        g_object_set (e, "location", "/dev/full", NULL);
      }, bus);
  ASSERT_NE (h, nullptr);

  EXPECT_EQ (gst_harness_push (h, meta_frame (GST_SECOND, true, { region_with (1, 1, 2, 2, 4,
                  0.8f) })), GST_FLOW_ERROR);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  ASSERT_NE (msg, nullptr);
  GError *error = nullptr;
  gst_message_parse_error (msg, &error, nullptr);
  EXPECT_TRUE (g_error_matches (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE))
      << error->message;
  EXPECT_NE (std::string (error->message).find ("/dev/full"), std::string::npos)
      << error->message;
  g_clear_error (&error);
  gst_message_unref (msg);

  /* Buffers without the meta write nothing, so they still pass. */
  push_ok (h, make_frame ("GRAY8", W, H, 0));
  gst_harness_teardown (h);
  gst_object_unref (bus);
}

TEST (JsonLines, StdoutWhenLocationIsDash)
{
  GstHarness *h = jsonlines_harness ([] (GstElement *e) {
        g_object_set (e, "location", "-", NULL);
      });
  ASSERT_NE (h, nullptr);
  testing::internal::CaptureStdout ();
  push_ok (h, meta_frame (GST_SECOND, true, { region_with (1, 1, 2, 2, 4, 0.8f) }));
  const std::string out = testing::internal::GetCapturedStdout ();
  gst_harness_teardown (h);

  Json j;
  ASSERT_FALSE (out.empty ());
  EXPECT_EQ (out.back (), '\n');
  ASSERT_TRUE (parse_json (out, j)) << out;
  expect_string (j["kind"], "region", "kind");
}
