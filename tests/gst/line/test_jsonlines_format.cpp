/* prnjsonlines' JSON formatting (prnjson.h) on its own: numbers, times, strings
 * and the region and buffer objects, checked as text and with json_parser.h. */
#include "jsonlines_fixture.h"

#include <gtest/gtest.h>

#include "prnjson.h"

#include <cmath>

using namespace prntest;

TEST (JsonLines, FormatsNumbersTimesAndStrings)
{
  EXPECT_EQ (prn::json_float (0.95f), "0.95");
  EXPECT_EQ (prn::json_float (0.6f), "0.6");
  EXPECT_EQ (prn::json_float (0.0), "0");
  EXPECT_EQ (prn::json_float (1e-7), "1e-07");
  EXPECT_EQ (prn::json_float (123456789.0), "1.23457e+08");
  EXPECT_EQ (prn::json_float (std::nan ("")), "null");
  EXPECT_EQ (prn::json_float (INFINITY), "null");
  EXPECT_EQ (prn::json_float (-INFINITY), "null");

  EXPECT_EQ (prn::json_time (GST_CLOCK_TIME_NONE), "null");
  EXPECT_EQ (prn::json_time (0), "0");
  EXPECT_EQ (prn::json_time (G_GUINT64_CONSTANT (18446744073709551614)),
      "18446744073709551614");

  EXPECT_EQ (prn::json_string (nullptr), "null");
  EXPECT_EQ (prn::json_string (""), "\"\"");
  EXPECT_EQ (prn::json_string ("plain-model_1.2"), "\"plain-model_1.2\"");
  EXPECT_EQ (prn::json_string ("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
  EXPECT_EQ (prn::json_string ("\n\r\t\b\f\x01\x1f\x7f"),
      "\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"");
  EXPECT_EQ (prn::json_string ("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");
  /* Invalid UTF-8 becomes U+FFFD, so the line stays valid UTF-8. */
  EXPECT_EQ (prn::json_string ("a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");

  Json j;
  for (const char *s : { "x\"y", "\\", "\x01\x02\n", "a\xff\xfe" "b", "\xe2\x82\xac" }) {
    ASSERT_TRUE (parse_json (prn::json_string (s), j)) << prn::json_string (s);
    EXPECT_EQ (j.type, Json::STRING);
  }
}

TEST (JsonLines, FormatsRegionAndBufferObjects)
{
  GstBuffer *buffer = meta_frame (GST_SECOND, true, {});
  GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);
  const GstPrnRegion r = region_with (3, -2, 5, 6, 17, 0.875f);
  gst_prn_anomaly_meta_add_region (meta, &r);
  prn::JsonTimes times;
  times.pts = GST_SECOND;

  EXPECT_EQ (prn::region_json (meta, r, times),
      "{\"kind\":\"region\",\"pts\":1000000000,\"running_time\":null,\"row_offset\":4094,"
      "\"x\":3,\"y\":-2,\"width\":5,\"height\":6,\"area\":17,\"score\":0.875,"
      "\"buffer_score\":0.9,\"threshold\":0.6,\"model_id\":\"test-model\"}");
  EXPECT_EQ (prn::buffer_json (meta, times),
      "{\"kind\":\"buffer\",\"pts\":1000000000,\"running_time\":null,\"duration\":null,"
      "\"row_offset\":4096,\"rows\":8,\"score\":0.9,\"threshold\":0.6,\"anomalous\":true,"
      "\"regions\":[{\"x\":3,\"y\":-2,\"width\":5,\"height\":6,\"area\":17,\"score\":0.875}],"
      "\"model_id\":\"test-model\"}");

  gst_prn_anomaly_meta_set_model_id (meta, nullptr);
  g_array_set_size (meta->regions, 0);
  meta->anomalous = FALSE;
  EXPECT_EQ (prn::buffer_json (meta, prn::JsonTimes ()),
      "{\"kind\":\"buffer\",\"pts\":null,\"running_time\":null,\"duration\":null,"
      "\"row_offset\":4096,\"rows\":8,\"score\":0.9,\"threshold\":0.6,\"anomalous\":false,"
      "\"regions\":[],\"model_id\":null}");
  gst_buffer_unref (buffer);
}
