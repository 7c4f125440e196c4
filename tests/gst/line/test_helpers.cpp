/* Helpers of the prnline GStreamer tests, and gst_init for the test binary. */
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <cstring>

namespace prntest {

namespace {

class GstEnvironment : public ::testing::Environment {
public:
  void SetUp () override { gst_init (nullptr, nullptr); }
};

[[maybe_unused]] const auto *const gst_environment =
    ::testing::AddGlobalTestEnvironment (new GstEnvironment);

}  // namespace

std::string
video_caps (const char *format, int width, int height)
{
  return "video/x-raw,format=" + std::string (format) + ",width=" + std::to_string (width) +
      ",height=" + std::to_string (height) + ",framerate=0/1";
}

GstBuffer *
make_frame (const char *format, int width, int height, guint8 grey)
{
  return make_frame_with (format, width, height, [grey] (int, int, int c) {
        return c == GST_VIDEO_COMP_A ? guint8 (255) : grey;
      });
}

GstBuffer *
make_frame_with (const char *format, int width, int height,
    const std::function<guint8 (int, int, int)> &value)
{
  GstVideoInfo info;
  gst_video_info_set_format (&info, gst_video_format_from_string (format), width, height);
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, GST_VIDEO_INFO_SIZE (&info), nullptr);

  GstVideoFrame frame;
  gst_video_frame_map (&frame, &info, buffer, GST_MAP_WRITE);
  auto *data = static_cast<guint8 *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0));
  const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  const gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0);
  for (int y = 0; y < height; y++) {
    guint8 *row = data + y * stride;
    std::memset (row, 255, stride);
    for (int x = 0; x < width; x++)
      for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (&frame); c++)
        row[x * pstride + GST_VIDEO_FORMAT_INFO_POFFSET (info.finfo, c)] = value (x, y, static_cast<int> (c));
  }
  gst_video_frame_unmap (&frame);
  return buffer;
}

std::vector<float>
make_heatmap (guint cols, guint rows, float background, guint c0, guint c1, guint r0,
    guint r1, float hot)
{
  std::vector<float> heat (static_cast<size_t> (cols) * rows, background);
  for (guint r = r0; r < r1; r++)
    for (guint c = c0; c < c1; c++)
      heat[r * cols + c] = hot;
  return heat;
}

GstPrnAnomalyMeta *
add_meta (GstBuffer *buffer, float pixel_threshold, const std::vector<float> &heat,
    guint cols, guint rows, float scale_x)
{
  GstPrnAnomalyMeta *meta = gst_buffer_add_prn_anomaly_meta (buffer);
  meta->score = 0.9f;
  meta->anomalous = TRUE;
  meta->threshold = 0.6f;
  meta->pixel_threshold = pixel_threshold;
  meta->row_offset = 4096;
  if (!heat.empty ())
    gst_prn_anomaly_meta_set_heatmap (meta, cols, rows, scale_x,
        g_bytes_new (heat.data (), heat.size () * sizeof (float)));
  gst_prn_anomaly_meta_set_model_id (meta, "test-model");
  return meta;
}

GstPrnAnomalyMeta *
add_flat_meta (GstBuffer *buffer, guint rows)
{
  return add_meta (buffer, 0.5f, make_heatmap (4, rows, 0.1f, 0, 0, 0, 0, 0.0f), 4, rows, 4.0f);
}

GstPrnRegion
region (gint x, gint y, gint width, gint height)
{
  GstPrnRegion r {};
  r.x = x;
  r.y = y;
  r.width = width;
  r.height = height;
  r.web_row = 4096 + y;
  r.area = static_cast<guint64> (width) * height;
  r.peak = 0.95f;
  return r;
}

std::vector<Rgb>
read_rgb (GstBuffer *buffer, const char *format, int width, int height)
{
  GstVideoInfo info;
  gst_video_info_set_format (&info, gst_video_format_from_string (format), width, height);
  GstVideoFrame frame;
  std::vector<Rgb> out;
  if (!gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ))
    return out;
  const auto *data = static_cast<const guint8 *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0));
  const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  const gint pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++) {
      const guint8 *px = data + y * stride + x * pstride;
      out.push_back ({ px[GST_VIDEO_FORMAT_INFO_POFFSET (info.finfo, GST_VIDEO_COMP_R)],
              px[GST_VIDEO_FORMAT_INFO_POFFSET (info.finfo, GST_VIDEO_COMP_G)],
              px[GST_VIDEO_FORMAT_INFO_POFFSET (info.finfo, GST_VIDEO_COMP_B)] });
    }
  gst_video_frame_unmap (&frame);
  return out;
}

bool
same_bytes (GstBuffer *a, GstBuffer *b)
{
  GstMapInfo ma, mb;
  if (!gst_buffer_map (a, &ma, GST_MAP_READ))
    return false;
  if (!gst_buffer_map (b, &mb, GST_MAP_READ)) {
    gst_buffer_unmap (a, &ma);
    return false;
  }
  const bool same = ma.size == mb.size && std::memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (b, &mb);
  gst_buffer_unmap (a, &ma);
  return same;
}

GstHarness *
overlay_harness (const char *format, int width, int height)
{
  GstElementFactory *factory = gst_element_factory_find ("prnoverlay");
  if (factory == nullptr)
    return nullptr;             /* the plugin is not on GST_PLUGIN_PATH */
  gst_object_unref (factory);
  GstHarness *h = gst_harness_new ("prnoverlay");
  const std::string caps = video_caps (format, width, height);
  gst_harness_set_caps_str (h, caps.c_str (), caps.c_str ());
  return h;
}

void
push_ok (GstHarness *h, GstBuffer *buffer)
{
  ASSERT_EQ (gst_harness_push (h, buffer), GST_FLOW_OK);
  GstBuffer *out = gst_harness_try_pull (h);
  EXPECT_NE (out, nullptr);
  if (out != nullptr)
    gst_buffer_unref (out);
}

bool
push_time_segment (GstHarness *h, GstClockTime start, GstClockTime base)
{
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = start;
  segment.time = start;
  segment.base = base;
  return gst_harness_push_event (h, gst_event_new_segment (&segment));
}

LogCounter::LogCounter (const char *domain)
  : domain_ (domain)
{
  id_ = g_log_set_handler (domain, static_cast<GLogLevelFlags> (G_LOG_LEVEL_WARNING |
          G_LOG_LEVEL_CRITICAL), &LogCounter::handler, this);
}

LogCounter::~LogCounter ()
{
  g_log_remove_handler (domain_, id_);
}

void
LogCounter::handler (const gchar *, GLogLevelFlags, const gchar *, gpointer self)
{
  static_cast<LogCounter *> (self)->count_++;
}

}  // namespace prntest
