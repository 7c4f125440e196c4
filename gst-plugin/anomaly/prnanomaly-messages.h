// prnanomaly element: what it tells the world about a scored buffer: the
// GstPrnAnomalyMeta, the element messages, and its latency.
#pragma once

#include "engine.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdint>
#include <deque>
#include <string>

namespace prn::gst {

// Web row -> the time the camera delivered it, from the buffers' PTS and
// duration (rows spread evenly over a buffer's duration). Rows are numbered
// across webs: a new web (caps change, discontinuity) continues the numbering.
class RowClock {
public:
  int64_t next_row() const { return next_row_; }
  // Rows before the current web.
  int64_t web_base() const { return web_base_; }
  void add(int64_t first_row, int64_t rows, GstClockTime pts, GstClockTime duration);
  GstClockTime time_of(int64_t row) const;
  void forget_before(int64_t row);
  // A new web starts at the next row.
  void restart() {
    entries_.clear();
    web_base_ = next_row_;
  }
  void reset() { *this = RowClock(); }

private:
  struct Entry {
    int64_t first_row, rows;
    GstClockTime pts, duration;
  };
  std::deque<Entry> entries_;
  int64_t next_row_ = 0, web_base_ = 0;
};

// Adds the meta for result `r` (engine rows, offset by web_base) to a writable buffer.
GstPrnAnomalyMeta *attach_meta(GstBuffer *buf, const BufferResult &r, int64_t web_base, float threshold,
                               float pixel_threshold, unsigned min_region_area, const std::string &model_id);

// Posts the element messages `mode` (GstPrnAnomalyMessages) asks for.
void post_messages(GstElement *element, const GstSegment *segment, const RowClock &clock, GstBuffer *buf,
                   const GstPrnAnomalyMeta *meta, int mode);

// The element's own latency: the rows it holds at the stream's line rate, plus
// the measured time to score them (frame mode: the scoring time only).
GstClockTime own_latency(const Engine &engine, const GstVideoInfo &info);

} // namespace prn::gst
