// prnanomaly: caps for every format and width, a meta with the buffer's rows on
// every buffer, untouched pixels, a width change mid-stream, and the tiling
// the INFO log reports.
#include "element_util.h"

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using namespace prn::test;

namespace {

// A buffer of `rows` rows for `info`, every byte = value.
GstBuffer *filled(const GstVideoInfo &info, uint8_t value) {
  GstBuffer *b = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  gst_buffer_memset(b, 0, value, GST_VIDEO_INFO_SIZE(&info));
  return b;
}

} // namespace

TEST(ElementCaps, EveryFormatAndWidthNegotiatesAndEveryBufferGetsItsRows) {
  for (const char *format : {"GRAY8", "GRAY16_LE", "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA"}) {
    for (int64_t width : {1, 37}) {
      SCOPED_TRACE(std::string(format) + " width " + std::to_string(width));
      GstHarness *h = element_harness();
      const std::string caps = caps_string(format, width, 5);
      gst_harness_set_src_caps_str(h, caps.c_str());
      GstVideoInfo info;
      GstCaps *c = gst_caps_from_string(caps.c_str());
      ASSERT_TRUE(gst_video_info_from_caps(&info, c));
      gst_caps_unref(c);
      for (int i = 0; i < 10; ++i)
        ASSERT_EQ(gst_harness_push(h, filled(info, static_cast<uint8_t>(100 + i))), GST_FLOW_OK);
      ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
      Output out;
      pull_all(h, out);
      ASSERT_EQ(out.buffers.size(), 10u);
      for (size_t i = 0; i < out.buffers.size(); ++i) {
        const GstPrnAnomalyMeta *m = out.meta(i);
        ASSERT_NE(m, nullptr) << "buffer " << i;
        EXPECT_EQ(m->heatmap_height, 5u);
        EXPECT_EQ(m->heatmap_width, static_cast<guint>(width));
        EXPECT_EQ(m->row_offset, 5 * i);
        ASSERT_NE(gst_prn_anomaly_meta_get_heatmap(m), nullptr);
        EXPECT_TRUE(m->model_id && std::strlen(m->model_id) > 0);
        for (guint k = 0; k < m->heatmap_width * m->heatmap_height; ++k) {
          const float v = gst_prn_anomaly_meta_get_heatmap(m)[k];
          ASSERT_TRUE(v >= 0.f && v <= 1.f) << v;
        }
        // In place: the pixels are untouched.
        GstMapInfo map;
        ASSERT_TRUE(gst_buffer_map(out.buffers[i], &map, GST_MAP_READ));
        EXPECT_EQ(map.data[0], 100 + i);
        gst_buffer_unmap(out.buffers[i], &map);
      }
      gst_harness_teardown(h);
    }
  }
}

TEST(ElementCaps, AWebOf16384PixelsIsScoredAcrossItsWholeWidth) {
  GstHarness *h = element_harness();
  torch::Tensor web = plain_web(4, 16384, 3);
  push_web(h, web, 2);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output out;
  pull_all(h, out);
  ASSERT_EQ(out.buffers.size(), 2u);
  const GstPrnAnomalyMeta *m = out.meta(1);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->heatmap_width, 16384u);
  EXPECT_EQ(m->heatmap_height, 2u);
  EXPECT_EQ(m->row_offset, 2u);
  gst_harness_teardown(h);
}

TEST(ElementCaps, AWidthChangeMidStreamSendsTheHeldRowsFirstThenStartsANewWeb) {
  GstHarness *h = element_harness();
  torch::Tensor a = plain_web(80, 300, 5), b = plain_web(48, 200, 6);
  push_web(h, a, 16);
  Output before;
  pull_all(h, before);
  EXPECT_LT(before.buffers.size(), 5u) << "rows are held until their tiles are scored";
  push_web(h, b, 16); // new caps: the held rows of the first web go out first
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output after;
  pull_all(h, after);
  std::vector<GstPrnAnomalyMeta *> metas;
  for (size_t i = 0; i < before.buffers.size(); ++i)
    metas.push_back(before.meta(i));
  for (size_t i = 0; i < after.buffers.size(); ++i)
    metas.push_back(after.meta(i));
  ASSERT_EQ(metas.size(), 8u);
  for (size_t i = 0; i < metas.size(); ++i) {
    ASSERT_NE(metas[i], nullptr);
    EXPECT_EQ(metas[i]->heatmap_width, i < 5 ? 300u : 200u) << i;
    EXPECT_EQ(metas[i]->row_offset, 16 * i) << "rows are numbered across webs";
  }
  gst_harness_teardown(h);
}

namespace {

// The messages of the prnanomaly debug category while it lives, at INFO.
class InfoLog {
public:
  InfoLog() {
    gst_debug_set_threshold_for_name("prnanomaly", GST_LEVEL_INFO);
    gst_debug_add_log_function(&InfoLog::log, this, nullptr);
  }
  ~InfoLog() {
    gst_debug_remove_log_function_by_data(this);
    gst_debug_unset_threshold_for_name("prnanomaly");
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

private:
  static void log(GstDebugCategory *category, GstDebugLevel level, const gchar *, const gchar *, gint, GObject *,
                  GstDebugMessage *message, gpointer data) {
    if (level != GST_LEVEL_INFO || std::strcmp(gst_debug_category_get_name(category), "prnanomaly") != 0)
      return;
    auto *self = static_cast<InfoLog *>(data);
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->lines_.emplace_back(gst_debug_message_get(message));
  }
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

std::string line_with(const std::vector<std::string> &lines, const std::string &part) {
  for (const std::string &l : lines)
    if (l.find(part) != std::string::npos)
      return l;
  return "";
}

// The INFO line prnanomaly <props> logs when a 300 px GRAY8 web of 16-row buffers starts.
std::string web_line(const std::string &props) {
  InfoLog log;
  GstHarness *h = element_harness(props + " warm-up=false");
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 300, 16).c_str());
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  gst_harness_teardown(h);
  return line_with(log.lines(), "web of 300 px GRAY8, 16 rows per buffer: ");
}

} // namespace

TEST(ElementCaps, TheInfoLogSaysHowTheWebIsTiled) {
  // 64 px tiles overlapping by 16 (stride 48) across 300 px: x = 0, 48, ..., 192
  // and the last aligned to the right edge at 236, 6 tiles; batch 4: 2 calls of 3.
  const std::string l = web_line("tile-size=64 tile-overlap=16 batch-size=4");
  ASSERT_FALSE(l.empty()) << "no web line at INFO";
  EXPECT_NE(l.find("tiles of 64 px"), std::string::npos) << l;
  EXPECT_NE(l.find("overlap 16, stride 48"), std::string::npos) << l;
  EXPECT_NE(l.find("6 tiles per row of tiles in 2 model call(s) of 3 tiles"), std::string::npos) << l;
  EXPECT_NE(l.find("every 48 lines"), std::string::npos) << l;
  const std::string f = web_line("mode=frame");
  ASSERT_FALSE(f.empty()) << "no web line at INFO in frame mode";
  EXPECT_NE(f.find("each frame resized"), std::string::npos) << f;
}
