/* prnline: GstPrnAnomalyMeta as JSON lines (see prnjson.h). */
#include "prnjson.h"

#include "prnline-common.h"

#include <cmath>

namespace prn {

namespace {

void
append_escaped (std::string &out, const char *s)
{
  static const char hex[] = "0123456789abcdef";

  out += '"';
  for (const char *p = s; *p != '\0'; p++) {
    const auto c = static_cast<unsigned char> (*p);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char> (c);
        }
        break;
    }
  }
  out += '"';
}

/* The region's web row: the buffer's first web row plus its y (negative when it
 * began in an earlier buffer). */
gint64
web_row (const GstPrnAnomalyMeta *meta, const GstPrnRegion &region)
{
  return static_cast<gint64> (meta->row_offset) + region.y;
}

void
append_region_fields (std::string &out, const GstPrnRegion &region)
{
  out += "\"x\":" + std::to_string (region.x);
  out += ",\"y\":" + std::to_string (region.y);
  out += ",\"width\":" + std::to_string (region.width);
  out += ",\"height\":" + std::to_string (region.height);
  out += ",\"area\":" + std::to_string (region.area);
  out += ",\"score\":" + json_float (region.peak);
}

guint
n_regions (const GstPrnAnomalyMeta *meta)
{
  return meta->regions != nullptr ? meta->regions->len : 0;
}

}  // namespace

std::string
json_string (const char *s)
{
  if (s == nullptr)
    return "null";

  std::string out;
  if (g_utf8_validate (s, -1, nullptr)) {
    append_escaped (out, s);
  } else {
    gchar *valid = g_utf8_make_valid (s, -1);
    append_escaped (out, valid);
    g_free (valid);
  }
  return out;
}

std::string
json_float (double v)
{
  if (!std::isfinite (v))
    return "null";
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd (buf, sizeof (buf), "%.6g", v);
}

std::string
json_time (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? std::to_string (t) : std::string ("null");
}

std::string
region_json (const GstPrnAnomalyMeta *meta, const GstPrnRegion &region, const JsonTimes &times)
{
  std::string out = "{\"kind\":\"region\"";
  out += ",\"pts\":" + json_time (times.pts);
  out += ",\"running_time\":" + json_time (times.running_time);
  out += ",\"row_offset\":" + std::to_string (web_row (meta, region));
  out += ',';
  append_region_fields (out, region);
  out += ",\"buffer_score\":" + json_float (meta->score);
  out += ",\"threshold\":" + json_float (meta->threshold);
  out += ",\"model_id\":" + json_string (meta->model_id);
  out += '}';
  return out;
}

std::string
buffer_json (const GstPrnAnomalyMeta *meta, const JsonTimes &times)
{
  std::string out = "{\"kind\":\"buffer\"";
  out += ",\"pts\":" + json_time (times.pts);
  out += ",\"running_time\":" + json_time (times.running_time);
  out += ",\"duration\":" + json_time (times.duration);
  out += ",\"row_offset\":" + std::to_string (meta->row_offset);
  out += ",\"rows\":" + std::to_string (meta->heatmap_height);
  out += ",\"score\":" + json_float (meta->score);
  out += ",\"threshold\":" + json_float (meta->threshold);
  out += ",\"anomalous\":";
  out += meta->anomalous ? "true" : "false";
  out += ",\"regions\":[";
  for (guint i = 0; i < n_regions (meta); i++) {
    out += i == 0 ? "{" : ",{";
    append_region_fields (out, g_array_index (meta->regions, GstPrnRegion, i));
    out += '}';
  }
  out += "],\"model_id\":" + json_string (meta->model_id);
  out += '}';
  return out;
}

std::vector<std::string>
meta_json (const GstPrnAnomalyMeta *meta, JsonWhat what, const JsonTimes &times)
{
  std::vector<std::string> out;
  switch (what) {
    case JsonWhat::REGIONS:
      for (guint i = 0; i < n_regions (meta); i++)
        out.push_back (region_json (meta, g_array_index (meta->regions, GstPrnRegion, i), times));
      break;
    case JsonWhat::ANOMALOUS_BUFFERS:
    case JsonWhat::BUFFERS:
      if (what == JsonWhat::BUFFERS || meta->anomalous)
        out.push_back (buffer_json (meta, times));
      break;
  }
  return out;
}

JsonTimes
json_times (const GstSegment &segment, const GstBuffer *buffer)
{
  JsonTimes t;
  t.pts = GST_BUFFER_PTS (buffer);
  t.duration = GST_BUFFER_DURATION (buffer);
  t.running_time = segment_running_time (segment, t.pts);
  return t;
}

}  // namespace prn
