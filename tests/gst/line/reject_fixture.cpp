/* The fixtures of the prnreject tests (see reject_fixture.h). */
#include "reject_fixture.h"

#include <gtest/gtest.h>

namespace prntest {

namespace {

constexpr GstClockTime ROW = REJECT_ROW;
const char *const CAPS = "video/x-raw,format=GRAY8,width=16,height=64,framerate=0/1";

}  // namespace

GstBuffer *
web_buffer (GstClockTime pts, guint64 row_offset, const std::vector<Defect> &defects,
    int rows, GstClockTime duration, bool anomalous)
{
  GstBuffer *buffer = make_frame ("GRAY8", 16, rows, 0);
  GstPrnAnomalyMeta *meta = add_flat_meta (buffer, rows);
  meta->row_offset = row_offset;
  meta->anomalous = anomalous;
  for (const Defect &d : defects) {
    GstPrnRegion r = region (d.x, static_cast<gint> (d.web_row - row_offset), d.width, d.height);
    r.web_row = d.web_row;
    gst_prn_anomaly_meta_add_region (meta, &r);
  }
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = GST_CLOCK_TIME_IS_VALID (duration) ? duration
      : static_cast<GstClockTime> (rows) * ROW;
  return buffer;
}

GstHarness *
reject_harness (const std::function<void (GstElement *)> &configure, GstBus *bus)
{
  GstElement *element = gst_element_factory_make ("prnreject", nullptr);
  EXPECT_NE (element, nullptr) << "prnreject not found on GST_PLUGIN_PATH";
  if (element == nullptr)
    return nullptr;
  configure (element);
  gst_element_set_bus (element, bus);
  GstHarness *h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_use_testclock (h);
  gst_harness_set_caps_str (h, CAPS, CAPS);
  return h;
}

GstClockTime
next_clock_time (GstHarness *h)
{
  GstTestClock *clock = gst_harness_get_testclock (h);
  const GstClockTime t = gst_test_clock_get_next_entry_time (clock);
  gst_object_unref (clock);
  return t;
}

guint
pending_ids (GstHarness *h)
{
  GstTestClock *clock = gst_harness_get_testclock (h);
  const guint n = gst_test_clock_peek_id_count (clock);
  gst_object_unref (clock);
  return n;
}

GstStructure *
pop_fire (GstBus *bus, GstClockTime timeout)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout, GST_MESSAGE_ELEMENT);
  if (msg == nullptr)
    return nullptr;
  const GstStructure *s = gst_message_get_structure (msg);
  GstStructure *copy = gst_structure_has_name (s, "prnreject") ? gst_structure_copy (s)
      : nullptr;
  gst_message_unref (msg);
  return copy;
}

Fire
parse_fire (GstStructure *s)
{
  Fire f;
  EXPECT_TRUE (gst_structure_get (s, "fire-time", G_TYPE_UINT64, &f.fire_time,
          "due-time", G_TYPE_UINT64, &f.due_time, "row-offset", G_TYPE_UINT64, &f.row_offset,
          "rows", G_TYPE_UINT64, &f.rows, "x", G_TYPE_INT, &f.x, "width", G_TYPE_INT, &f.width,
          "pulse-ms", G_TYPE_DOUBLE, &f.pulse_ms, "late", G_TYPE_BOOLEAN, &f.late,
          "count", G_TYPE_UINT, &f.count, NULL)) << gst_structure_to_string (s);
  gst_structure_free (s);
  return f;
}

Fire
crank_fire (GstHarness *h, GstBus *bus, GstClockTime expected_time)
{
  EXPECT_EQ (next_clock_time (h), expected_time);
  EXPECT_TRUE (gst_harness_crank_single_clock_wait (h));
  GstStructure *s = pop_fire (bus, GST_SECOND);
  EXPECT_NE (s, nullptr) << "no fire message";
  return s != nullptr ? parse_fire (s) : Fire ();
}

std::map<std::string, std::string>
flat_json (const std::string &text)
{
  std::map<std::string, std::string> out;
  std::string body = text;
  while (!body.empty () && (body.back () == '\n' || body.back () == ' '))
    body.pop_back ();
  EXPECT_TRUE (body.size () >= 2 && body.front () == '{' && body.back () == '}') << text;
  if (body.size () < 2)
    return out;
  body = body.substr (1, body.size () - 2);
  size_t i = 0;
  while (i < body.size ()) {
    const size_t colon = body.find (':', i);
    size_t comma = body.find (',', colon);
    if (colon == std::string::npos)
      break;
    if (comma == std::string::npos)
      comma = body.size ();
    std::string key = body.substr (i, colon - i);
    EXPECT_TRUE (key.size () >= 2 && key.front () == '"' && key.back () == '"') << key;
    out[key.substr (1, key.size () - 2)] = body.substr (colon + 1, comma - colon - 1);
    i = comma + 1;
  }
  return out;
}

void
expect_start_error (const std::function<void (GstElement *)> &configure,
    const std::vector<std::string> &words, const char *factory)
{
  GstElement *element = gst_element_factory_make (factory, nullptr);
  ASSERT_NE (element, nullptr) << factory << " not found on GST_PLUGIN_PATH";
  gst_object_ref_sink (element);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (element, bus);
  configure (element);
  EXPECT_EQ (gst_element_set_state (element, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  ASSERT_NE (msg, nullptr);
  GError *error = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error (msg, &error, &debug);
  EXPECT_EQ (error->domain, GST_RESOURCE_ERROR);
  const std::string text = std::string (error->message) + "\n" + (debug != nullptr ? debug : "");
  for (const std::string &w : words)
    EXPECT_NE (text.find (w), std::string::npos) << "\"" << w << "\" not in: " << text;
  g_clear_error (&error);
  g_free (debug);
  gst_message_unref (msg);
  EXPECT_EQ (gst_element_set_state (element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (element, nullptr);
  gst_object_unref (bus);
  gst_object_unref (element);
}

}  // namespace prntest
