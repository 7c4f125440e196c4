// prnanomaly on a continuous web: a defect across a buffer border reported once
// with its box, messages with the row's time, thresholds changed while playing,
// latency, flushing, and frame mode.
#include "element_util.h"

using namespace prn::test;

namespace {

const Box kDefect{200, 100, 30, 40}; // rows 100..139: across the border at row 128

torch::Tensor defect_web() {
  torch::Tensor web = plain_web(384, 512, 21);
  plant(web, kDefect.x, kDefect.y, kDefect.w, kDefect.h, 90);
  return web;
}

} // namespace

TEST(ElementWeb, ADefectAcrossABufferBorderIsReportedOnceWithItsBox) {
  const torch::Tensor web = defect_web();
  for (const char *props : {"", "max-inflight=2", "threads=1 max-inflight=1"}) {
  for (int64_t block : {64, 1}) {
    SCOPED_TRACE("buffers of " + std::to_string(block) + " rows, '" + props + "'");
    GstHarness *h = element_harness(props);
    push_web(h, web, block);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    Output out;
    pull_all(h, out);
    ASSERT_EQ(out.buffers.size(), static_cast<size_t>(web.size(0) / block));
    int matched = 0, others = 0;
    for (const auto &[box, region] : out.regions()) {
      if (iou(box, kDefect) >= 0.5) {
        ++matched;
        EXPECT_EQ(region.web_row, static_cast<guint64>(box.y));
        EXPECT_GT(region.peak, 0.5f);
      } else {
        ++others;
        ADD_FAILURE() << "region at x " << box.x << " row " << box.y << " " << box.w << "x" << box.h << " area "
                      << region.area << " peak " << region.peak;
      }
    }
    EXPECT_EQ(matched, 1) << "the defect is reported once, whole";
    EXPECT_EQ(others, 0) << "no false alarms on the plain web";
    // Buffers whose rows hold the defect are anomalous; buffers far away are not.
    for (size_t i = 0; i < out.buffers.size(); ++i) {
      const GstPrnAnomalyMeta *m = out.meta(i);
      ASSERT_NE(m, nullptr);
      ASSERT_EQ(m->heatmap_height, static_cast<guint>(block));
      const int64_t y0 = static_cast<int64_t>(m->row_offset), y1 = y0 + block;
      if (y0 < kDefect.y + kDefect.h && y1 > kDefect.y) {
        EXPECT_TRUE(m->anomalous) << "rows " << y0 << ".." << y1;
      }
      if (y1 < kDefect.y - 256 || y0 > kDefect.y + kDefect.h + 256) {
        EXPECT_FALSE(m->anomalous) << "rows " << y0 << ".." << y1 << " score " << m->score;
      }
    }
    gst_harness_teardown(h);
  }
  }
}

TEST(ElementWeb, RegionMessagesCarryTheTimeOfTheRegionsFirstRow) {
  const torch::Tensor web = defect_web();
  GstHarness *h = element_harness("messages=regions");
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  const GstClockTime block_duration = 10 * GST_MSECOND;
  push_web(h, web, 64, block_duration);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output out;
  pull_all(h, out);
  int regions = 0;
  while (GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure *s = gst_message_get_structure(msg);
    if (gst_structure_has_name(s, "prnanomaly-region")) {
      ++regions;
      guint64 row = 0, ts = 0, running = 0, stream = 0;
      gint x = 0;
      ASSERT_TRUE(gst_structure_get_uint64(s, "row-offset", &row));
      ASSERT_TRUE(gst_structure_get_uint64(s, "timestamp", &ts));
      ASSERT_TRUE(gst_structure_get_uint64(s, "running-time", &running));
      ASSERT_TRUE(gst_structure_get_uint64(s, "stream-time", &stream));
      ASSERT_TRUE(gst_structure_get_int(s, "x", &x));
      EXPECT_NEAR(static_cast<double>(row), kDefect.y, 3);
      EXPECT_NEAR(x, kDefect.x, 3);
      // Row r of buffer i (64 rows, 10 ms) came at i * 10 ms + (r % 64) / 64 * 10 ms.
      const GstClockTime expected = (row / 64) * block_duration + gst_util_uint64_scale(block_duration, row % 64, 64);
      EXPECT_EQ(ts, expected);
      EXPECT_EQ(running, expected); // default segment from 0
      EXPECT_EQ(stream, expected);
    }
    gst_message_unref(msg);
  }
  EXPECT_EQ(regions, 1);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}

TEST(ElementWeb, BufferMessagesCarryTheBufferTimes) {
  GstHarness *h = element_harness("messages=buffers");
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  push_web(h, plain_web(256, 64, 9), 64, 20 * GST_MSECOND);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output out;
  pull_all(h, out);
  guint64 n = 0;
  while (GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure *s = gst_message_get_structure(msg);
    guint64 ts = 0, row = 0;
    EXPECT_TRUE(gst_structure_has_name(s, "prnanomaly-buffer"));
    ASSERT_TRUE(gst_structure_get_uint64(s, "timestamp", &ts));
    ASSERT_TRUE(gst_structure_get_uint64(s, "row-offset", &row));
    EXPECT_EQ(ts, n * 20 * GST_MSECOND);
    EXPECT_EQ(row, n * 64);
    ++n;
    gst_message_unref(msg);
  }
  EXPECT_EQ(n, 4u);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}

TEST(ElementWeb, ThresholdChangesWhilePlayingApplyToTheNextBuffers) {
  GstHarness *h = element_harness();
  const torch::Tensor web = plain_web(512, 128, 13);
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 128, 64).c_str());
  Output out;
  for (int64_t i = 0; i < 8; ++i) {
    if (i == 3)
      g_object_set(element_of(h), "threshold", 0.0, nullptr);
    if (i == 6)
      g_object_set(element_of(h), "threshold", 1.0, nullptr);
    ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 64 * i, 64)), GST_FLOW_OK);
    pull_all(h, out);
  }
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  pull_all(h, out);
  ASSERT_EQ(out.buffers.size(), 8u);
  // Buffers leave later than they come: each uses the threshold set when it left.
  int at_zero = 0;
  for (size_t i = 0; i < out.buffers.size(); ++i) {
    const GstPrnAnomalyMeta *m = out.meta(i);
    if (m->threshold == 0.f) {
      ++at_zero;
      EXPECT_TRUE(m->anomalous);
    } else if (m->threshold == 1.f) {
      EXPECT_FALSE(m->anomalous);
    } else {
      EXPECT_FALSE(m->anomalous) << "plain web at the calibrated threshold " << m->threshold << ", score " << m->score;
    }
  }
  EXPECT_GE(at_zero, 1);
  EXPECT_FLOAT_EQ(out.meta(7)->threshold, 1.f);
  gst_harness_teardown(h);
}

TEST(ElementWeb, LatencyIsTheHeldRowsAtTheLineRatePlusScoring) {
  GstHarness *h = element_harness();
  // 64-row buffers at 100/s: 6400 lines/s. Light model: tile 128, stride 96,
  // held rows 128 + 96 + 1, plus the buffer's other 63 rows = 288 rows = 45 ms.
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 256, 64, 100, 1).c_str());
  const torch::Tensor web = plain_web(256, 256, 4);
  for (int64_t i = 0; i < 4; ++i)
    ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 64 * i, 64, i * 10 * GST_MSECOND, 10 * GST_MSECOND)), GST_FLOW_OK);
  const GstClockTime latency = gst_harness_query_latency(h);
  EXPECT_GE(latency, 45 * GST_MSECOND);
  EXPECT_LT(latency, 45 * GST_MSECOND + 10 * GST_SECOND);
  gst_harness_teardown(h);
}

TEST(ElementWeb, WarmUpMeasuresTheScoringTimeBeforeTheFirstBufferAndChangesNoResult) {
  // Same caps as above: the held rows alone are 45 ms; the scoring time comes on top.
  const torch::Tensor web = defect_web();
  std::vector<float> scores[2];
  for (int warm = 0; warm < 2; ++warm) {
    SCOPED_TRACE(warm ? "warm-up=true" : "warm-up=false");
    GstHarness *h = element_harness(warm ? "warm-up=true" : "warm-up=false");
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus); // the harness bin forwards its children's messages
    gst_harness_set_src_caps_str(h, caps_string("GRAY8", web.size(1), 64, 100, 1).c_str());
    // Before any buffer: with warm-up the scoring time is measured and announced.
    const GstClockTime latency = gst_harness_query_latency(h);
    GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_LATENCY);
    if (warm) {
      EXPECT_GT(latency, 45 * GST_MSECOND) << "the warm-up's call time is part of the latency";
      EXPECT_LT(latency, 45 * GST_MSECOND + 10 * GST_SECOND);
      EXPECT_NE(msg, nullptr) << "a latency message after the warm-up";
    } else {
      EXPECT_EQ(latency, 45 * GST_MSECOND) << "no call measured yet: the held rows only";
      EXPECT_EQ(msg, nullptr);
    }
    if (msg)
      gst_message_unref(msg);
    for (int64_t y = 0; y < web.size(0); y += 64)
      ASSERT_EQ(gst_harness_push(h, gray_buffer(web, y, 64)), GST_FLOW_OK);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    Output out;
    pull_all(h, out);
    ASSERT_EQ(out.buffers.size(), static_cast<size_t>(web.size(0) / 64));
    for (size_t i = 0; i < out.buffers.size(); ++i)
      scores[warm].push_back(out.meta(i)->score);
    gst_element_set_bus(h->element, nullptr);
    gst_object_unref(bus);
    gst_harness_teardown(h);
  }
  ASSERT_EQ(scores[0].size(), scores[1].size());
  for (size_t i = 0; i < scores[0].size(); ++i)
    EXPECT_FLOAT_EQ(scores[0][i], scores[1][i]) << "buffer " << i;
  EXPECT_GT(*std::max_element(scores[0].begin(), scores[0].end()), 0.5f) << "the defect is scored";
}

TEST(ElementWeb, FlushDropsTheHeldRows) {
  GstHarness *h = element_harness();
  const torch::Tensor web = plain_web(256, 128, 8);
  push_web(h, web.narrow(0, 0, 64), 32);
  Output held;
  pull_all(h, held);
  EXPECT_EQ(held.buffers.size(), 0u);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  for (int64_t i = 0; i < 3; ++i)
    ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 64 + 32 * i, 32)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output out;
  pull_all(h, out);
  EXPECT_EQ(out.buffers.size(), 3u) << "only the buffers after the flush come out";
  gst_harness_teardown(h);
}

TEST(ElementWeb, ADiscontinuitySendsTheHeldRowsAndStartsANewWeb) {
  GstHarness *h = element_harness();
  const torch::Tensor web = plain_web(320, 128, 12);
  push_web(h, web.narrow(0, 0, 192), 64); // first buffer DISCONT: nothing held yet, no effect
  Output before;
  pull_all(h, before);
  EXPECT_LT(before.buffers.size(), 3u) << "rows are held";
  GstBuffer *b = gray_buffer(web, 192, 64);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT); // rows were lost before this one
  ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
  Output drained;
  pull_all(h, drained);
  EXPECT_EQ(before.buffers.size() + drained.buffers.size(), 3u) << "the old web's buffers all left";
  ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 256, 64)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output after;
  pull_all(h, after);
  ASSERT_EQ(after.buffers.size(), 2u);
  EXPECT_EQ(after.meta(0)->row_offset, 192u) << "rows are numbered across webs";
  EXPECT_TRUE(GST_BUFFER_IS_DISCONT(after.buffers[0]));
  gst_harness_teardown(h);
}

TEST(ElementWeb, TheWorkerThreadPushesBuffersWithoutWaitingForTheNextOne) {
  // A triggered camera may send nothing for a while: with max-inflight the
  // buffers whose rows are final leave without another buffer coming.
  GstHarness *h = element_harness("max-inflight=1");
  const torch::Tensor web = plain_web(384, 128, 17);
  push_web(h, web, 64); // 6 buffers; the first ones become final while later ones are scored
  // Pull (blocking) the buffers that must be final once all rows up to 384 - T
  // are scored: rows < 288 - ... at least the first three buffers.
  for (int i = 0; i < 3; ++i) {
    GstBuffer *b = gst_harness_pull(h);
    ASSERT_NE(b, nullptr) << "buffer " << i << " did not leave without a further push";
    const GstPrnAnomalyMeta *m = gst_buffer_get_prn_anomaly_meta(b);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->row_offset, 64u * i);
    gst_buffer_unref(b);
  }
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  for (int i = 3; i < 6; ++i) {
    GstBuffer *b = gst_harness_pull(h);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(gst_buffer_get_prn_anomaly_meta(b)->row_offset, 64u * i) << "EOS drains the held rows, in order";
    gst_buffer_unref(b);
  }
  gst_harness_teardown(h);
}

TEST(ElementWeb, AFlushWhileTheWorkerScoresDropsTheOldWebCleanly) {
  GstHarness *h = element_harness("max-inflight=2");
  const torch::Tensor web = plain_web(640, 256, 19);
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 256, 64).c_str());
  for (int64_t i = 0; i < 7; ++i)
    ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 64 * i, 64, i * GST_SECOND)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  Output before;
  pull_all(h, before); // whatever left before the flush
  for (int64_t i = 7; i < 10; ++i)
    ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 64 * i, 64, i * GST_SECOND)), GST_FLOW_OK);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstClockTime> after;
  for (int i = 0; i < 3; ++i) {
    GstBuffer *b = gst_harness_pull(h);
    ASSERT_NE(b, nullptr);
    after.push_back(GST_BUFFER_PTS(b));
    EXPECT_NE(gst_buffer_get_prn_anomaly_meta(b), nullptr);
    gst_buffer_unref(b);
  }
  EXPECT_EQ(after, (std::vector<GstClockTime>{7 * GST_SECOND, 8 * GST_SECOND, 9 * GST_SECOND}));
  EXPECT_EQ(gst_harness_try_pull(h), nullptr) << "nothing of the old web comes after the new one";
  // What came out before the flush is a prefix of the old web, in order.
  ASSERT_LE(before.buffers.size(), 7u);
  for (size_t i = 0; i < before.buffers.size(); ++i)
    EXPECT_EQ(GST_BUFFER_PTS(before.buffers[i]), static_cast<GstClockTime>(i) * GST_SECOND) << "buffer " << i;
  gst_harness_teardown(h);
}

TEST(ElementWeb, FrameModeScoresEachBufferAlone) {
  GstHarness *h = element_harness("mode=frame");
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 200, 150).c_str());
  Output out;
  for (int i = 0; i < 3; ++i) {
    torch::Tensor img = plain_web(150, 200, 30 + i);
    if (i == 1)
      plant(img, 60, 50, 40, 30, 90);
    ASSERT_EQ(gst_harness_push(h, gray_buffer(img, 0, 150)), GST_FLOW_OK);
    pull_all(h, out);
    ASSERT_EQ(out.buffers.size(), static_cast<size_t>(i + 1)) << "no rows are held in frame mode";
  }
  for (int i = 0; i < 3; ++i) {
    const GstPrnAnomalyMeta *m = out.meta(i);
    EXPECT_EQ(m->anomalous, i == 1) << "frame " << i << " score " << m->score;
    EXPECT_EQ(m->heatmap_height, 150u);
  }
  const auto regions = out.regions();
  ASSERT_EQ(regions.size(), 1u);
  const Box &b = regions[0].first;
  EXPECT_GE(iou(Box{b.x, b.y - 150, b.w, b.h}, Box{60, 50, 40, 30}), 0.5)
      << "box " << b.x << "," << b.y - 150 << " " << b.w << "x" << b.h;
  gst_harness_teardown(h);
}
