/* prnline: GstPrnAnomalyMeta as JSON lines, for prnjsonlines. Pure functions
 * returning std::string (no GObject, no I/O), so they can be tested on their own.
 *
 * Every line is one JSON object without a trailing newline. Numbers are written
 * locale-independently: integers exactly, floats with "%.6g" (NaN and infinities,
 * which JSON cannot carry, as null); times in nanoseconds, null when
 * GST_CLOCK_TIME_NONE; a NULL model id as null. */
#pragma once

#include <gst/gst.h>
#include <prnanomaly/gstprnanomalymeta.h>

#include <string>
#include <vector>

namespace prn {

/* The times of one buffer, in nanoseconds; GST_CLOCK_TIME_NONE: unknown. */
struct JsonTimes {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
};

/* The times of `buffer` in `segment` (running time: GST_CLOCK_TIME_NONE outside a
 * TIME segment). */
JsonTimes json_times (const GstSegment &segment, const GstBuffer *buffer);

/* `s` as a quoted JSON string: '"' and '\\' escaped, control characters as \n,
 * \t, ... or \u00XX; invalid UTF-8 replaced by U+FFFD. nullptr gives null. */
std::string json_string (const char *s);

/* "%.6g" in the C locale; null for NaN and infinities. */
std::string json_float (double v);

/* A time in nanoseconds, null for GST_CLOCK_TIME_NONE. */
std::string json_time (GstClockTime t);

/* {"kind":"region","pts":..,"running_time":..,"row_offset":<meta->row_offset + y>,
 *  "x":..,"y":..,"width":..,"height":..,"area":..,"score":<peak>,
 *  "buffer_score":..,"threshold":..,"model_id":..} */
std::string region_json (const GstPrnAnomalyMeta *meta, const GstPrnRegion &region,
    const JsonTimes &times);

/* {"kind":"buffer","pts":..,"running_time":..,"duration":..,"row_offset":..,
 *  "rows":<heatmap_height>,"score":..,"threshold":..,"anomalous":true|false,
 *  "regions":[{"x":..,"y":..,"width":..,"height":..,"area":..,"score":..},...],
 *  "model_id":..} */
std::string buffer_json (const GstPrnAnomalyMeta *meta, const JsonTimes &times);

/* What the JSON objects of a meta describe (the "what" property of prnjsonlines
 * and prnmqtt; the values of GstPrnJsonLinesWhat). */
enum class JsonWhat { REGIONS = 0, ANOMALOUS_BUFFERS = 1, BUFFERS = 2 };

/* The objects `what` asks for: one region_json per region; or one buffer_json,
 * for every buffer or only an anomalous one. */
std::vector<std::string> meta_json (const GstPrnAnomalyMeta *meta, JsonWhat what,
    const JsonTimes &times);

}  // namespace prn
