// Shared helpers of the prnanomaly element tests: the test bundle, buffers built
// in code, and reading the metas of what comes out.
#pragma once

#include "plain_web.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace prn::test {

inline std::string test_bundle() {
  const char *p = std::getenv("PRN_TEST_BUNDLE");
  return p ? p : "";
}

// Initialises GStreamer once per test program.
class GstEnvironment : public ::testing::Environment {
public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
inline ::testing::Environment *const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

// A box in web coordinates.
struct Box {
  int64_t x = 0, y = 0, w = 0, h = 0;
};

inline double iou(const Box &a, const Box &b) {
  const int64_t x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const int64_t x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  const double inter = static_cast<double>(std::max<int64_t>(0, x1 - x0) * std::max<int64_t>(0, y1 - y0));
  return inter / static_cast<double>(a.w * a.h + b.w * b.h - inter);
}

// A harness around `prnanomaly <props>`, the test bundle loaded.
inline GstHarness *element_harness(const std::string &props = "") {
  const std::string desc = "prnanomaly model=\"" + test_bundle() + "\" " + props;
  return gst_harness_new_parse(desc.c_str());
}

// The prnanomaly element inside a harness made by element_harness().
inline GstElement *element_of(GstHarness *h) {
  if (!GST_IS_BIN(h->element))
    return h->element;
  GstElement *e = gst_bin_get_by_name(GST_BIN(h->element), "prnanomaly0");
  GstIterator *it = gst_bin_iterate_elements(GST_BIN(h->element));
  GValue v = G_VALUE_INIT;
  if (!e && gst_iterator_next(it, &v) == GST_ITERATOR_OK)
    e = GST_ELEMENT(g_value_dup_object(&v));
  g_value_unset(&v);
  gst_iterator_free(it);
  gst_object_unref(e); // the bin keeps it alive
  return e;
}

inline std::string caps_string(const char *format, int64_t width, int64_t rows, int fps_n = 0, int fps_d = 1) {
  return std::string("video/x-raw,format=") + format + ",width=" + std::to_string(width) +
         ",height=" + std::to_string(rows) + ",framerate=" + std::to_string(fps_n) + "/" + std::to_string(fps_d);
}

// A GRAY8 buffer from rows [y, y + n) of a (rows, W) uint8 web, stride = W.
inline GstBuffer *gray_buffer(const torch::Tensor &web, int64_t y, int64_t n, GstClockTime pts = GST_CLOCK_TIME_NONE,
                              GstClockTime duration = GST_CLOCK_TIME_NONE) {
  const torch::Tensor rows = web.narrow(0, y, n).contiguous();
  GstBuffer *b = gst_buffer_new_memdup(rows.data_ptr<uint8_t>(), rows.numel());
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = duration;
  return b;
}

// Pushes a grey web in blocks of `block` rows (the web's rows must be a multiple).
inline void push_web(GstHarness *h, const torch::Tensor &web, int64_t block, GstClockTime block_duration = 0) {
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", web.size(1), block).c_str());
  for (int64_t y = 0, i = 0; y < web.size(0); y += block, ++i) {
    const GstClockTime pts = block_duration ? i * block_duration : GST_CLOCK_TIME_NONE;
    GstBuffer *b = gray_buffer(web, y, block, pts, block_duration ? block_duration : GST_CLOCK_TIME_NONE);
    if (i == 0) // as sources mark their first buffer
      GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
    ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
  }
}

struct Output {
  std::vector<GstBuffer *> buffers;
  ~Output() {
    for (GstBuffer *b : buffers)
      gst_buffer_unref(b);
  }
  GstPrnAnomalyMeta *meta(size_t i) const { return gst_buffer_get_prn_anomaly_meta(buffers[i]); }
  // Every region of every buffer, in web coordinates.
  std::vector<std::pair<Box, GstPrnRegion>> regions() const {
    std::vector<std::pair<Box, GstPrnRegion>> out;
    for (size_t i = 0; i < buffers.size(); ++i) {
      const GstPrnAnomalyMeta *m = meta(i);
      for (guint k = 0; m && k < m->regions->len; ++k) {
        const GstPrnRegion &r = g_array_index(m->regions, GstPrnRegion, k);
        out.push_back({Box{r.x, static_cast<int64_t>(m->row_offset) + r.y, r.width, r.height}, r});
      }
    }
    return out;
  }
};

// Everything the harness has pushed out so far.
inline void pull_all(GstHarness *h, Output &out) {
  while (GstBuffer *b = gst_harness_try_pull(h))
    out.buffers.push_back(b);
}

} // namespace prn::test
