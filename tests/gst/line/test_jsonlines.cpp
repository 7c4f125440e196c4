/* prnjsonlines: the JSON formatting (prnjson.h) and the element, whose output
 * file is parsed back with a small strict JSON parser (and by Python's json). */
#include "test_helpers.h"

#include <gtest/gtest.h>

#include "prnjson.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

using namespace prntest;

namespace {

constexpr int W = 16, H = 8;
const char *const CAPS = "video/x-raw,format=GRAY8,width=16,height=8,framerate=0/1";

/* ---- A small, strict JSON parser (RFC 8259), enough to check the lines. ---- */

struct Json {
  enum Type { MISSING, NUL, BOOL, NUMBER, STRING, ARRAY, OBJECT } type = MISSING;
  bool boolean = false;
  std::string text;             /* a number's literal, or a string's value */
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json &operator[] (const std::string &key) const
  {
    static const Json missing;
    for (const auto &m : members)
      if (m.first == key)
        return m.second;
    return missing;
  }
  const Json &operator[] (size_t i) const { return items.at (i); }
  double num () const { return std::strtod (text.c_str (), nullptr); }
  long long integer () const { return std::strtoll (text.c_str (), nullptr, 10); }
  bool is_integer () const
  {
    return type == NUMBER && text.find_first_of (".eE") == std::string::npos;
  }
  std::vector<std::string> keys () const
  {
    std::vector<std::string> k;
    for (const auto &m : members)
      k.push_back (m.first);
    return k;
  }
};

class JsonParser {
public:
  explicit JsonParser (const std::string &s) : s_ (s) {}

  /* The whole text must be one value (whitespace around it allowed). */
  bool parse (Json &out)
  {
    ws ();
    if (!value (out, 0))
      return false;
    ws ();
    return i_ == s_.size ();
  }

private:
  const std::string &s_;
  size_t i_ = 0;

  void ws ()
  {
    while (i_ < s_.size () && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' ||
            s_[i_] == '\r'))
      i_++;
  }
  bool eat (char c)
  {
    if (i_ < s_.size () && s_[i_] == c) {
      i_++;
      return true;
    }
    return false;
  }
  bool literal (const char *word)
  {
    const std::string w (word);
    if (s_.compare (i_, w.size (), w) != 0)
      return false;
    i_ += w.size ();
    return true;
  }
  bool digits ()
  {
    const size_t start = i_;
    while (i_ < s_.size () && s_[i_] >= '0' && s_[i_] <= '9')
      i_++;
    return i_ > start;
  }
  bool number (Json &out)
  {
    const size_t start = i_;
    eat ('-');
    if (eat ('0')) {
      /* no leading zeros */
    } else if (!digits ()) {
      return false;
    }
    if (eat ('.') && !digits ())
      return false;
    if (eat ('e') || eat ('E')) {
      if (!eat ('+'))
        eat ('-');
      if (!digits ())
        return false;
    }
    out.type = Json::NUMBER;
    out.text = s_.substr (start, i_ - start);
    return true;
  }
  static void utf8 (std::string &out, unsigned cp)
  {
    if (cp < 0x80) {
      out += static_cast<char> (cp);
    } else if (cp < 0x800) {
      out += static_cast<char> (0xc0 | (cp >> 6));
      out += static_cast<char> (0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char> (0xe0 | (cp >> 12));
      out += static_cast<char> (0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char> (0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char> (0xf0 | (cp >> 18));
      out += static_cast<char> (0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char> (0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char> (0x80 | (cp & 0x3f));
    }
  }
  bool hex4 (unsigned &cp)
  {
    if (i_ + 4 > s_.size ())
      return false;
    cp = 0;
    for (int k = 0; k < 4; k++) {
      const char c = s_[i_++];
      const int v = g_ascii_xdigit_value (c);
      if (v < 0)
        return false;
      cp = cp * 16 + v;
    }
    return true;
  }
  bool string (std::string &out)
  {
    if (!eat ('"'))
      return false;
    while (i_ < s_.size ()) {
      const auto c = static_cast<unsigned char> (s_[i_++]);
      if (c == '"')
        return g_utf8_validate (out.data (), out.size (), nullptr);
      if (c < 0x20)
        return false;           /* raw control characters are not allowed */
      if (c != '\\') {
        out += static_cast<char> (c);
        continue;
      }
      if (i_ >= s_.size ())
        return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp;
          if (!hex4 (cp))
            return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            unsigned lo;
            if (!eat ('\\') || !eat ('u') || !hex4 (lo) || lo < 0xdc00 || lo >= 0xe000)
              return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return false;
          }
          utf8 (out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool value (Json &out, int depth)
  {
    if (depth > 32 || i_ >= s_.size ())
      return false;
    const char c = s_[i_];
    if (c == 'n' && literal ("null")) {
      out.type = Json::NUL;
      return true;
    }
    if (c == 't' && literal ("true")) {
      out.type = Json::BOOL;
      out.boolean = true;
      return true;
    }
    if (c == 'f' && literal ("false")) {
      out.type = Json::BOOL;
      return true;
    }
    if (c == '"') {
      out.type = Json::STRING;
      return string (out.text);
    }
    if (c == '[') {
      i_++;
      out.type = Json::ARRAY;
      ws ();
      if (eat (']'))
        return true;
      do {
        ws ();
        out.items.emplace_back ();
        if (!value (out.items.back (), depth + 1))
          return false;
        ws ();
      } while (eat (','));
      return eat (']');
    }
    if (c == '{') {
      i_++;
      out.type = Json::OBJECT;
      ws ();
      if (eat ('}'))
        return true;
      do {
        ws ();
        std::string key;
        if (!string (key))
          return false;
        for (const auto &m : out.members)
          if (m.first == key)
            return false;       /* duplicate keys: not what a reader expects */
        ws ();
        if (!eat (':'))
          return false;
        ws ();
        out.members.emplace_back (key, Json ());
        if (!value (out.members.back ().second, depth + 1))
          return false;
        ws ();
      } while (eat (','));
      return eat ('}');
    }
    return number (out);
  }
};

bool
parse_json (const std::string &text, Json &out)
{
  out = Json ();
  return JsonParser (text).parse (out);
}

/* ---- Files and the element. ---- */

class TmpDir {
public:
  TmpDir ()
  {
    gchar *dir = g_dir_make_tmp ("prn-jsonlines-XXXXXX", nullptr);
    path_ = dir != nullptr ? dir : "";
    g_free (dir);
  }
  ~TmpDir ()
  {
    std::error_code ec;
    if (!path_.empty ())
      std::filesystem::remove_all (path_, ec);
  }
  std::string file (const char *name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

std::string
read_text (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf ();
  return ss.str ();
}

/* The file's lines; every line must end with '\n'. */
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

/* Parses every line of the file, failing the test on an invalid one. */
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

/* A harness around a prnjsonlines set up by `configure` before it starts; GRAY8
 * caps on both pads. nullptr when the element cannot be found. */
GstHarness *
jsonlines_harness (const std::function<void (GstElement *)> &configure, GstBus *bus = nullptr)
{
  GstElement *element = gst_element_factory_make ("prnjsonlines", nullptr);
  EXPECT_NE (element, nullptr) << "prnjsonlines not found on GST_PLUGIN_PATH";
  if (element == nullptr)
    return nullptr;
  configure (element);
  if (bus != nullptr)
    gst_element_set_bus (element, bus);
  GstHarness *h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  gst_harness_set_caps_str (h, CAPS, CAPS);
  return h;
}

GstHarness *
jsonlines_harness (const std::string &location, const char *what)
{
  return jsonlines_harness ([&] (GstElement *e) {
        g_object_set (e, "location", location.c_str (), NULL);
        gst_util_set_object_arg (G_OBJECT (e), "what", what);
      });
}

/* A GRAY8 frame with a meta like add_meta's (score 0.9, threshold 0.6, row_offset
 * 4096, model "test-model", a 4 x H heatmap), `anomalous`, and `regions`. */
GstBuffer *
meta_frame (GstClockTime pts, bool anomalous, const std::vector<GstPrnRegion> &regions,
    GstClockTime duration = 40 * GST_MSECOND)
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

/* A segment with start 1 s, base 10 s: running time = pts - 1 s + 10 s. */
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

/* A region object of a buffer line: exactly x, y, width, height, area, score. */
void
expect_region_object (const Json &j, const GstPrnRegion &r)
{
  EXPECT_EQ (j.keys (), (std::vector<std::string> { "x", "y", "width", "height", "area",
              "score" }));
  expect_int (j["x"], r.x, "x");
  expect_int (j["y"], r.y, "y");
  expect_int (j["width"], r.width, "width");
  expect_int (j["height"], r.height, "height");
  expect_int (j["area"], static_cast<long long> (r.area), "area");
  expect_float (j["score"], r.peak, "score");
}

}  // namespace

/* ---- prnjson.h on its own. ---- */

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

/* ---- The element. ---- */

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
    expect_int (j["x"], r.x, "x");
    expect_int (j["y"], r.y, "y");
    expect_int (j["width"], r.width, "width");
    expect_int (j["height"], r.height, "height");
    expect_int (j["area"], static_cast<long long> (r.area), "area");
    expect_float (j["score"], r.peak, "score");
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
