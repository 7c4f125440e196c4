#include "prnanomaly-messages.h"

#include "gstprnanomaly.h"

#include <algorithm>

namespace prn::gst {

void RowClock::add(int64_t first_row, int64_t rows, GstClockTime pts, GstClockTime duration) {
  entries_.push_back({first_row, rows, pts, duration});
  next_row_ = first_row + rows;
  while (entries_.size() > 4096)
    entries_.pop_front();
}

GstClockTime RowClock::time_of(int64_t row) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (row < it->first_row)
      continue;
    if (!GST_CLOCK_TIME_IS_VALID(it->pts))
      return GST_CLOCK_TIME_NONE;
    if (!GST_CLOCK_TIME_IS_VALID(it->duration) || it->rows <= 1)
      return it->pts;
    const int64_t k = std::min(row - it->first_row, it->rows - 1);
    return it->pts + gst_util_uint64_scale(it->duration, k, it->rows);
  }
  return entries_.empty() ? GST_CLOCK_TIME_NONE : entries_.front().pts;
}

void RowClock::forget_before(int64_t row) {
  while (entries_.size() > 1 && entries_[1].first_row <= row)
    entries_.pop_front();
}

namespace {

void free_tensor(gpointer p) { delete static_cast<torch::Tensor *>(p); }

} // namespace

GstPrnAnomalyMeta *attach_meta(GstBuffer *buf, const BufferResult &r, int64_t web_base, float threshold,
                               float pixel_threshold, unsigned min_region_area, const std::string &model_id) {
  GstPrnAnomalyMeta *m = gst_buffer_add_prn_anomaly_meta(buf);
  const int64_t first = web_base + r.first_row;
  m->score = r.score;
  m->threshold = threshold;
  m->anomalous = r.score >= threshold;
  m->pixel_threshold = pixel_threshold;
  m->row_offset = static_cast<guint64>(first);
  // The heatmap stays in the tensor's memory; the GBytes holds a reference.
  auto *heat = new torch::Tensor(r.heatmap.contiguous());
  GBytes *bytes = g_bytes_new_with_free_func(heat->data_ptr<float>(), heat->numel() * sizeof(float), free_tensor, heat);
  gst_prn_anomaly_meta_set_heatmap(m, static_cast<guint>(heat->size(1)), static_cast<guint>(heat->size(0)),
                                   static_cast<gfloat>(r.column_step), bytes);
  std::vector<stream::Region> regions;
  for (const stream::Region &g : r.regions)
    if (g.area >= static_cast<int64_t>(min_region_area))
      regions.push_back(g);
  std::sort(regions.begin(), regions.end(), [](const auto &a, const auto &b) { return a.peak > b.peak; });
  for (const stream::Region &g : regions) {
    GstPrnRegion pr;
    pr.x = static_cast<gint>(g.x);
    pr.y = static_cast<gint>(web_base + g.y - first);
    pr.width = static_cast<gint>(g.width);
    pr.height = static_cast<gint>(g.height);
    pr.web_row = static_cast<guint64>(web_base + g.y);
    pr.area = static_cast<guint64>(g.area);
    pr.peak = g.peak;
    gst_prn_anomaly_meta_add_region(m, &pr);
  }
  gst_prn_anomaly_meta_set_model_id(m, model_id.c_str());
  return m;
}

namespace {

void add_times(GstStructure *s, const GstSegment *segment, GstClockTime t) {
  const GstClockTime running =
      GST_CLOCK_TIME_IS_VALID(t) ? gst_segment_to_running_time(segment, GST_FORMAT_TIME, t) : GST_CLOCK_TIME_NONE;
  const GstClockTime stream =
      GST_CLOCK_TIME_IS_VALID(t) ? gst_segment_to_stream_time(segment, GST_FORMAT_TIME, t) : GST_CLOCK_TIME_NONE;
  gst_structure_set(s, "timestamp", G_TYPE_UINT64, t, "running-time", G_TYPE_UINT64, running, "stream-time",
                    G_TYPE_UINT64, stream, NULL);
}

} // namespace

void post_messages(GstElement *element, const GstSegment *segment, const RowClock &clock, GstBuffer *buf,
                   const GstPrnAnomalyMeta *m, int mode) {
  if (mode == GST_PRN_ANOMALY_MESSAGES_NONE)
    return;
  if (mode == GST_PRN_ANOMALY_MESSAGES_REGIONS) {
    for (guint i = 0; i < m->regions->len; ++i) {
      const GstPrnRegion &r = g_array_index(m->regions, GstPrnRegion, i);
      GstStructure *s = gst_structure_new("prnanomaly-region", "model-id", G_TYPE_STRING, m->model_id, NULL);
      add_times(s, segment, clock.time_of(static_cast<int64_t>(r.web_row)));
      gst_structure_set(s, "row-offset", G_TYPE_UINT64, r.web_row, "x", G_TYPE_INT, r.x, "y", G_TYPE_INT, r.y,
                        "width", G_TYPE_INT, r.width, "height", G_TYPE_INT, r.height, "area", G_TYPE_UINT64, r.area,
                        "score", G_TYPE_FLOAT, r.peak, "buffer-score", G_TYPE_FLOAT, m->score,
                        "buffer-row-offset", G_TYPE_UINT64, m->row_offset, NULL);
      gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
    }
    return;
  }
  if (mode == GST_PRN_ANOMALY_MESSAGES_ANOMALOUS_BUFFERS && !m->anomalous)
    return;
  GstStructure *s = gst_structure_new("prnanomaly-buffer", "model-id", G_TYPE_STRING, m->model_id, NULL);
  add_times(s, segment, GST_BUFFER_PTS(buf));
  gst_structure_set(s, "duration", G_TYPE_UINT64, GST_BUFFER_DURATION(buf), "row-offset", G_TYPE_UINT64,
                    m->row_offset, "rows", G_TYPE_UINT, m->heatmap_height, "score", G_TYPE_FLOAT, m->score,
                    "threshold", G_TYPE_FLOAT, m->threshold, "anomalous", G_TYPE_BOOLEAN, m->anomalous, "regions",
                    G_TYPE_UINT, m->regions->len, NULL);
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT(element), s));
}

GstClockTime own_latency(const Engine &engine, const GstVideoInfo &info) {
  GstClockTime t = static_cast<GstClockTime>(engine.processing_time().count());
  if (engine.rows_held() == 0) // frame mode: each buffer is scored alone, no row waits for another
    return t;
  const int64_t rows = engine.rows_held() + GST_VIDEO_INFO_HEIGHT(&info) - 1;
  if (GST_VIDEO_INFO_FPS_N(&info) > 0 && rows > 0) // lines/s = fps * rows per buffer
    t += gst_util_uint64_scale(static_cast<guint64>(rows) * GST_SECOND, GST_VIDEO_INFO_FPS_D(&info),
                               static_cast<guint64>(GST_VIDEO_INFO_FPS_N(&info)) * GST_VIDEO_INFO_HEIGHT(&info));
  return t;
}

} // namespace prn::gst
