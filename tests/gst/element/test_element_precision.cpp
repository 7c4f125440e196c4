// prnanomaly's precision property: bf16 on the CPU scores a web like fp32 (the
// same defect found, heatmaps within a few hundredths, yet not the same bits:
// autocast ran), the property's names, fp16 on the CPU as an error naming it;
// cuda-graphs: off by default, ignored on the CPU, and on a GPU like eager calls.
#include "element_util.h"

#include <algorithm>
#include <cmath>

using namespace prn::test;

namespace {

const Box kPrecisionDefect{300, 180, 40, 30};

struct PrecisionRun {
  std::vector<float> scores;
  std::vector<std::vector<float>> heatmaps; // one per buffer, row-major
  int matched = 0;                           // regions over the planted defect
};

PrecisionRun score_web_in(const torch::Tensor &web, const std::string &props) {
  PrecisionRun s;
  GstHarness *h = element_harness(props);
  push_web(h, web, 64);
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  Output out;
  pull_all(h, out);
  EXPECT_EQ(out.buffers.size(), static_cast<size_t>(web.size(0) / 64));
  for (size_t i = 0; i < out.buffers.size(); ++i) {
    const GstPrnAnomalyMeta *m = out.meta(i);
    if (m == nullptr) {
      ADD_FAILURE() << "buffer " << i << " without a meta";
      continue;
    }
    s.scores.push_back(m->score);
    gsize bytes = 0;
    const float *px = m->heatmap ? static_cast<const float *>(g_bytes_get_data(m->heatmap, &bytes)) : nullptr;
    EXPECT_EQ(bytes, sizeof(float) * m->heatmap_width * m->heatmap_height) << "buffer " << i;
    s.heatmaps.emplace_back(px, px + bytes / sizeof(float));
  }
  for (const auto &[box, region] : out.regions())
    s.matched += iou(box, kPrecisionDefect) >= 0.3 ? 1 : 0;
  gst_harness_teardown(h);
  return s;
}

} // namespace

TEST(ElementPrecision, Bf16OnTheCpuScoresLikeFp32) {
  torch::Tensor web = plain_web(384, 512, 33);
  plant(web, kPrecisionDefect.x, kPrecisionDefect.y, kPrecisionDefect.w, kPrecisionDefect.h, 90);
  const PrecisionRun fp32 = score_web_in(web, "device=cpu");
  const PrecisionRun bf16 = score_web_in(web, "device=cpu precision=bf16");
  ASSERT_EQ(fp32.scores.size(), bf16.scores.size());
  ASSERT_EQ(fp32.heatmaps.size(), bf16.heatmaps.size());
  EXPECT_EQ(fp32.matched, 1);
  EXPECT_EQ(bf16.matched, 1) << "bf16 finds the defect, once";
  float max_diff = 0.f;
  for (size_t i = 0; i < fp32.scores.size(); ++i) {
    EXPECT_NEAR(bf16.scores[i], fp32.scores[i], 0.05) << "buffer " << i;
    ASSERT_EQ(fp32.heatmaps[i].size(), bf16.heatmaps[i].size());
    for (size_t k = 0; k < fp32.heatmaps[i].size(); ++k)
      max_diff = std::max(max_diff, std::fabs(fp32.heatmaps[i][k] - bf16.heatmaps[i][k]));
  }
  EXPECT_LT(max_diff, 0.1f) << "bf16 heatmaps within a few hundredths of fp32";
  EXPECT_GT(max_diff, 0.f) << "bf16 gave fp32's bits: autocast did not run";
}

TEST(ElementPrecision, PropertyNamesAndDefault) {
  GstElement *e = gst_element_factory_make("prnanomaly", nullptr);
  ASSERT_NE(e, nullptr);
  for (const char *want : {"fp32", "bf16", "fp16"}) {
    if (std::string(want) != "fp32")
      gst_util_set_object_arg(G_OBJECT(e), "precision", want);
    GValue p = G_VALUE_INIT;
    g_value_init(&p, g_type_from_name("GstPrnAnomalyPrecision"));
    g_object_get_property(G_OBJECT(e), "precision", &p);
    GEnumClass *klass = static_cast<GEnumClass *>(g_type_class_ref(G_VALUE_TYPE(&p)));
    const GEnumValue *ev = g_enum_get_value(klass, g_value_get_enum(&p));
    ASSERT_NE(ev, nullptr);
    EXPECT_STREQ(ev->value_nick, want);
    g_type_class_unref(klass);
    g_value_unset(&p);
  }
  gst_object_unref(e);
}

TEST(ElementPrecision, Fp16OnTheCpuIsAnErrorNamingIt) {
  GstElement *e = gst_element_factory_make("prnanomaly", nullptr);
  ASSERT_NE(e, nullptr);
  g_object_set(e, "model", test_bundle().c_str(), "device", "cpu", NULL);
  gst_util_set_object_arg(G_OBJECT(e), "precision", "fp16");
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  // READY -> PAUSED starts the element: the bundle loads, fp16 cannot run on the CPU.
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ASSERT_NE(msg, nullptr) << "an error message";
  GError *err = nullptr;
  gchar *dbg = nullptr;
  gst_message_parse_error(msg, &err, &dbg);
  EXPECT_EQ(err->domain, GST_RESOURCE_ERROR);
  const std::string text = err->message;
  EXPECT_NE(text.find("fp16"), std::string::npos) << text;
  EXPECT_NE(text.find("CUDA"), std::string::npos) << text;
  g_error_free(err);
  g_free(dbg);
  gst_message_unref(msg);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}

namespace {

float max_heatmap_difference(const PrecisionRun &a, const PrecisionRun &b) {
  float d = 0.f;
  EXPECT_EQ(a.heatmaps.size(), b.heatmaps.size());
  for (size_t i = 0; i < std::min(a.heatmaps.size(), b.heatmaps.size()); ++i) {
    EXPECT_EQ(a.heatmaps[i].size(), b.heatmaps[i].size()) << "buffer " << i;
    for (size_t k = 0; k < std::min(a.heatmaps[i].size(), b.heatmaps[i].size()); ++k)
      d = std::max(d, std::fabs(a.heatmaps[i][k] - b.heatmaps[i][k]));
  }
  return d;
}

} // namespace

TEST(ElementPrecision, CudaGraphsAreOffByDefaultAndIgnoredOnTheCpu) {
  GstElement *e = gst_element_factory_make("prnanomaly", nullptr);
  ASSERT_NE(e, nullptr);
  gboolean graphs = TRUE;
  g_object_get(e, "cuda-graphs", &graphs, NULL);
  EXPECT_FALSE(graphs);
  gst_object_unref(e);
  torch::Tensor web = plain_web(256, 512, 34);
  plant(web, kPrecisionDefect.x, kPrecisionDefect.y - 60, kPrecisionDefect.w, kPrecisionDefect.h, 90);
  const PrecisionRun plain = score_web_in(web, "device=cpu");
  const PrecisionRun graphed = score_web_in(web, "device=cpu cuda-graphs=true");
  EXPECT_EQ(max_heatmap_difference(plain, graphed), 0.f) << "the CPU has no CUDA graphs: the same calls";
  EXPECT_EQ(plain.scores, graphed.scores);
}

TEST(ElementPrecision, CudaGraphsScoreLikeEagerCallsOnTheGpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  torch::Tensor web = plain_web(384, 512, 35);
  plant(web, kPrecisionDefect.x, kPrecisionDefect.y, kPrecisionDefect.w, kPrecisionDefect.h, 90);
  const PrecisionRun eager = score_web_in(web, "device=cuda");
  const PrecisionRun graphed = score_web_in(web, "device=cuda cuda-graphs=true");
  EXPECT_EQ(eager.matched, 1);
  EXPECT_EQ(graphed.matched, 1);
  EXPECT_LT(max_heatmap_difference(eager, graphed), 1e-4f);
}
