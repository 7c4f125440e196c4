// prnanomaly and the buffers it holds: serialized events stay in order with
// them, events that end the web drain them, the same caps again do not, the
// LATENCY query on any thread and in frame mode, upstream's ALLOCATION query,
// and controlled properties.
#include "element_util.h"

#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>

#include <atomic>
#include <mutex>
#include <thread>

using namespace prn::test;

namespace {

// What leaves the element's source pad, in order: "B<n>" for the buffer with PTS
// n seconds, the structure name of a custom event, "gap", "eos".
class OrderLog {
public:
  explicit OrderLog(GstElement *element) : pad_(gst_element_get_static_pad(element, "src")) {
    probe_ = gst_pad_add_probe(pad_, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                               &OrderLog::on_data, this, nullptr);
  }
  ~OrderLog() {
    gst_pad_remove_probe(pad_, probe_);
    gst_object_unref(pad_);
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

private:
  static GstPadProbeReturn on_data(GstPad *, GstPadProbeInfo *info, gpointer data) {
    auto *self = static_cast<OrderLog *>(data);
    std::string entry;
    if (GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info); b && (info->type & GST_PAD_PROBE_TYPE_BUFFER)) {
      entry = "B" + std::to_string(GST_BUFFER_PTS(b) / GST_SECOND);
    } else if (GstEvent *e = GST_PAD_PROBE_INFO_EVENT(info)) {
      if (GST_EVENT_TYPE(e) == GST_EVENT_CUSTOM_DOWNSTREAM)
        entry = gst_structure_get_name(gst_event_get_structure(e));
      else if (GST_EVENT_TYPE(e) == GST_EVENT_TAG)
        entry = "tag";
      else if (GST_EVENT_TYPE(e) == GST_EVENT_GAP)
        entry = "gap";
      else if (GST_EVENT_TYPE(e) == GST_EVENT_EOS)
        entry = "eos";
    }
    if (!entry.empty()) {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->entries_.push_back(entry);
    }
    return GST_PAD_PROBE_OK;
  }

  GstPad *pad_;
  gulong probe_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

GstEvent *custom_event(const char *name) {
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty(name));
}

// Pushes 64-row buffers [first, last) of `web`, buffer i with PTS i seconds.
void push_blocks(GstHarness *h, const torch::Tensor &web, int first, int last) {
  for (int i = first; i < last; ++i)
    ASSERT_EQ(gst_harness_push(h, gray_buffer(web, 64 * i, 64, i * GST_SECOND, GST_SECOND)), GST_FLOW_OK);
}

GstEvent *caps_event(const std::string &caps_str) {
  GstCaps *caps = gst_caps_from_string(caps_str.c_str());
  GstEvent *e = gst_event_new_caps(caps);
  gst_caps_unref(caps);
  return e;
}

size_t count_out(GstHarness *h) {
  Output out;
  pull_all(h, out);
  return out.buffers.size();
}

// Runs `body (h, log, web)` twice: scoring in the streaming thread, then on the
// worker (max-inflight=2); each time on a new harness with GRAY8 128 px caps set,
// its event log and a web of `rows` rows from `seed`; the harness is torn down
// after the body, whatever it asserted.
template <typename Body> void in_both_scoring_threads(int64_t rows, uint64_t seed, Body body) {
  for (const char *props : {"", "max-inflight=2"}) {
    SCOPED_TRACE(*props ? props : "streaming thread");
    GstHarness *h = element_harness(props);
    OrderLog log(element_of(h));
    const torch::Tensor web = plain_web(rows, 128, seed);
    gst_harness_set_src_caps_str(h, caps_string("GRAY8", 128, 64).c_str());
    body(h, log, web);
    gst_harness_teardown(h);
  }
}

} // namespace

TEST(ElementEvents, ASerializedEventGoesOutRightAfterTheBuffersThatCameBeforeIt) {
  in_both_scoring_threads(448, 40, [](GstHarness *h, OrderLog &log, const torch::Tensor &web) {
    push_blocks(h, web, 0, 3); // 192 rows: the last buffers are held (T 128 + stride 96)
    ASSERT_TRUE(gst_harness_push_event(h, custom_event("after-3")));
    push_blocks(h, web, 3, 5);
    ASSERT_TRUE(gst_harness_push_event(h, custom_event("after-5")));
    ASSERT_TRUE(gst_harness_push_event(h, custom_event("also-after-5")));
    push_blocks(h, web, 5, 7);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"B0", "B1", "B2", "after-3", "B3", "B4", "after-5",
                                                       "also-after-5", "B5", "B6", "eos"}));
    EXPECT_EQ(count_out(h), 7u);
  });
}

TEST(ElementEvents, AGapSendsTheHeldRowsFirstAndStartsANewWeb) {
  in_both_scoring_threads(384, 41, [](GstHarness *h, OrderLog &log, const torch::Tensor &web) {
    push_blocks(h, web, 0, 3);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_gap(3 * GST_SECOND, GST_SECOND)));
    EXPECT_EQ(log.entries(), (std::vector<std::string>{"B0", "B1", "B2", "gap"}));
    push_blocks(h, web, 4, 6);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    Output out;
    pull_all(h, out);
    ASSERT_EQ(out.buffers.size(), 5u);
    EXPECT_EQ(out.meta(3)->row_offset, 192u) << "the rows after the gap continue the numbering";
  });
}

TEST(ElementEvents, AFlushDropsHeldEventsButKeepsTagsForTheNextBuffer) {
  in_both_scoring_threads(384, 46, [](GstHarness *h, OrderLog &log, const torch::Tensor &web) {
    push_blocks(h, web, 0, 3);
    GstTagList *tags = gst_tag_list_new(GST_TAG_TITLE, "line 7", NULL);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_tag(tags)));
    ASSERT_TRUE(gst_harness_push_event(h, custom_event("dropped")));
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&seg)));
    push_blocks(h, web, 3, 5);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    std::vector<std::string> after_flush;
    bool seen_tag = false;
    for (const std::string &e : log.entries()) {
      EXPECT_NE(e, "dropped") << "a non-sticky event held at the flush goes with the held buffers";
      if (e == "tag") {
        seen_tag = true;
      } else if (e == "B3") {
        EXPECT_TRUE(seen_tag) << "the tag held at the flush goes before the next buffer";
      }
    }
    EXPECT_TRUE(seen_tag);
  });
}

TEST(ElementEvents, TheSameCapsAgainKeepTheWebGoing) {
  GstHarness *h = element_harness();
  const torch::Tensor web = plain_web(384, 128, 42);
  const std::string caps = caps_string("GRAY8", 128, 64);
  gst_harness_set_src_caps_str(h, caps.c_str());
  push_blocks(h, web, 0, 3);
  const size_t before = count_out(h);
  ASSERT_LT(before, 3u) << "rows are held";
  ASSERT_TRUE(gst_harness_push_event(h, caps_event(caps)));
  EXPECT_EQ(count_out(h), 0u) << "equal caps do not drain the held rows";
  // New caps do.
  const std::string wider = caps_string("GRAY8", 192, 64);
  ASSERT_TRUE(gst_harness_push_event(h, caps_event(wider)));
  EXPECT_EQ(before + count_out(h), 3u);
  gst_harness_teardown(h);
}

TEST(ElementEvents, FrameModeLatencyIsTheScoringTimeAlone) {
  // 150-row frames at 1/s: a frame's rows would add almost a second if counted.
  GstHarness *h = element_harness("mode=frame warm-up=false");
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 200, 150, 1, 1).c_str());
  EXPECT_EQ(gst_harness_query_latency(h), 0u) << "no call measured, nothing held";
  ASSERT_EQ(gst_harness_push(h, gray_buffer(plain_web(150, 200, 43), 0, 150, 0, GST_SECOND)), GST_FLOW_OK);
  const GstClockTime latency = gst_harness_query_latency(h);
  EXPECT_GT(latency, 0u) << "the measured scoring time";
  EXPECT_LT(latency, 500 * GST_MSECOND);
  gst_harness_teardown(h);
}

TEST(ElementEvents, TheLatencyQueryIsAnsweredOnAnyThreadWhileWebsRestart) {
  GstHarness *h = element_harness("max-inflight=1");
  const torch::Tensor web = plain_web(256, 128, 44);
  gst_harness_set_src_caps_str(h, caps_string("GRAY8", 128, 64, 100, 1).c_str());
  std::atomic<bool> done{false};
  std::atomic<int> answers{0}, wrong{0};
  std::thread asker([&] {
    while (!done) {
      const GstClockTime l = gst_harness_query_latency(h);
      if (l < 45 * GST_MSECOND) // the held rows alone: (128 + 96 + 1 + 63) / 6400 lines/s
        wrong++;
      answers++;
    }
  });
  for (int round = 0; round < 15; ++round) { // every round a new web (DISCONT), the scanner made again
    for (int i = 0; i < 4; ++i) {
      GstBuffer *b = gray_buffer(web, 64 * i, 64, (4 * round + i) * 10 * GST_MSECOND, 10 * GST_MSECOND);
      if (i == 0)
        GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
      ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
    }
  }
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  done = true;
  asker.join();
  EXPECT_GT(answers.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(count_out(h), 60u);
  gst_harness_teardown(h);
}

TEST(ElementEvents, UpstreamPoolsAreAskedForTheBuffersHeld) {
  // Light model, 64-row buffers: 225 held rows -> 4 buffers, + the one not yet
  // final = 5; with max-inflight=3, 8. Frame mode holds none.
  // Downstream a fakesink, which does not answer ALLOCATION: still asked.
  for (const auto &[props, held] : std::vector<std::pair<std::string, guint>>{
           {"", 5u}, {"max-inflight=3", 8u}, {"mode=frame", 0u}, {"! fakesink", 5u}}) {
    SCOPED_TRACE(props);
    GstHarness *h = element_harness(props);
    const std::string caps_str = caps_string("GRAY8", 128, 64);
    gst_harness_set_src_caps_str(h, caps_str.c_str());
    GstCaps *caps = gst_caps_from_string(caps_str.c_str());
    GstQuery *q = gst_query_new_allocation(caps, TRUE);
    ASSERT_TRUE(gst_pad_peer_query(h->srcpad, q) || held == 0);
    guint most = 0;
    for (guint i = 0; i < gst_query_get_n_allocation_pools(q); ++i) {
      guint size = 0, min = 0, max = 0;
      gst_query_parse_nth_allocation_pool(q, i, nullptr, &size, &min, &max);
      EXPECT_TRUE(max == 0 || max >= min);
      most = std::max(most, min);
    }
    EXPECT_GE(most, held);
    if (held == 0) {
      EXPECT_EQ(gst_query_get_n_allocation_pools(q), 0u);
    }
    gst_query_unref(q);
    gst_caps_unref(caps);
    gst_harness_teardown(h);
  }
}

TEST(ElementEvents, AControlledThresholdTakesEachBuffersTime) {
  // Held buffers (lines mode) and queued ones (worker) keep the value of their
  // own time, whenever they leave.
  for (const char *props : {"mode=frame", "", "max-inflight=3", "mode=frame max-inflight=3"}) {
    SCOPED_TRACE(props);
    GstHarness *h = element_harness(props);
    GstElement *e = element_of(h);
    GstControlSource *cs = gst_interpolation_control_source_new();
    g_object_set(cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
    GstTimedValueControlSource *tv = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
    gst_timed_value_control_source_set(tv, 0, 0.9);
    gst_timed_value_control_source_set(tv, 2 * GST_SECOND, 0.1);
    ASSERT_TRUE(gst_object_add_control_binding(GST_OBJECT(e),
                                               gst_direct_control_binding_new_absolute(GST_OBJECT(e), "threshold", cs)));
    gst_object_unref(cs);
    const torch::Tensor web = plain_web(384, 128, 45);
    gst_harness_set_src_caps_str(h, caps_string("GRAY8", 128, 64).c_str());
    push_blocks(h, web, 0, 6);
    ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
    Output out;
    pull_all(h, out);
    ASSERT_EQ(out.buffers.size(), 6u);
    for (int i = 0; i < 6; ++i)
      EXPECT_FLOAT_EQ(out.meta(i)->threshold, i < 2 ? 0.9f : 0.1f) << "buffer at " << i << " s";
    gst_harness_teardown(h);
  }
}
