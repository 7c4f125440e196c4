// prnanomaly's life: bad model files and devices are element errors naming what
// is wrong, and 100 PLAYING <-> NULL cycles neither crash nor leak.
#include "element_util.h"

#include <algorithm>
#include <fstream>
#include <malloc.h>
#include <unistd.h>
#include <vector>

using namespace prn::test;

namespace {

struct RunResult {
  GstStateChangeReturn change;
  std::string error, debug;
  GQuark domain = 0;
  int code = 0;
};

// Runs `prnanomaly <props>` behind a short test source until EOS or an error.
RunResult run_pipeline(const std::string &props) {
  const std::string desc = "videotestsrc num-buffers=4 ! video/x-raw,format=GRAY8,width=64,height=16 ! prnanomaly " +
                           props + " ! fakesink";
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch(desc.c_str(), &err);
  EXPECT_EQ(err, nullptr) << (err ? err->message : "");
  RunResult r;
  r.change = gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *e = nullptr;
    gchar *dbg = nullptr;
    gst_message_parse_error(msg, &e, &dbg);
    r.error = e->message;
    r.domain = e->domain;
    r.code = e->code;
    r.debug = dbg ? dbg : "";
    g_error_free(e);
    g_free(dbg);
  }
  if (msg)
    gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return r;
}

// Resident memory once the allocator has handed its free pages back: without the
// trim, RSS swings by ~70 MB from cycle to cycle (glibc keeps freed tensors
// mapped); with it, it stays within 1 MB over 100 clean cycles, bar a rare
// sample 30 MB low.
long resident_kib() {
  malloc_trim(0);
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long median(std::vector<long> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

} // namespace

TEST(ElementLifecycle, MissingModelFileIsAnErrorNamingTheFile) {
  const RunResult r = run_pipeline("model=/nonexistent/line7.prn");
  EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_NOT_FOUND);
  EXPECT_NE(r.error.find("/nonexistent/line7.prn"), std::string::npos) << r.error;
}

TEST(ElementLifecycle, CorruptModelFileIsAnErrorNamingTheFile) {
  char path[] = "/tmp/prn-corrupt-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  static const char junk[] = "PK\x03\x04 not a bundle";
  ASSERT_EQ(write(fd, junk, sizeof junk - 1), static_cast<ssize_t>(sizeof junk - 1));
  close(fd);
  const RunResult r = run_pipeline(std::string("model=") + path);
  unlink(path);
  EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(r.code, GST_RESOURCE_ERROR_OPEN_READ);
  EXPECT_NE(r.error.find(path), std::string::npos) << r.error;
}

TEST(ElementLifecycle, NoModelPropertyIsAnError) {
  const RunResult r = run_pipeline("");
  EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
  EXPECT_NE(r.error.find("'model'"), std::string::npos) << r.error;
}

TEST(ElementLifecycle, CudaWhereThereIsNoneIsAClearErrorNotACrash) {
  if (torch::cuda::is_available())
    GTEST_SKIP() << "this machine has a GPU";
  const RunResult r = run_pipeline("model=\"" + test_bundle() + "\" device=cuda");
  EXPECT_EQ(r.domain, GST_RESOURCE_ERROR);
  EXPECT_NE(r.error.find("CUDA"), std::string::npos) << r.error;
  const RunResult bad = run_pipeline("model=\"" + test_bundle() + "\" device=tpu");
  EXPECT_NE(bad.error.find("tpu"), std::string::npos) << bad.error;
}

TEST(ElementLifecycle, HundredPlayingNullCyclesNeitherCrashNorLeak) {
  for (const char *props : {"", "max-inflight=2"}) {
  SCOPED_TRACE(props);
  const std::string desc = "videotestsrc is-live=true ! video/x-raw,format=GRAY8,width=96,height=8,framerate=200/1 ! "
                           "prnanomaly model=\"" + test_bundle() + "\" " + props + " ! fakesink";
  GstElement *pipeline = gst_parse_launch(desc.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  // A leak raises resident memory steadily; compare the median of cycles 10-29
  // with that of cycles 80-99, so one odd sample cannot decide it.
  std::vector<long> early, late;
  for (int i = 0; i < 100; ++i) {
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << "cycle " << i;
    GstState state;
    ASSERT_EQ(gst_element_get_state(pipeline, &state, nullptr, 30 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    g_usleep(20000); // some buffers flow, some rows are held when it stops
    ASSERT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    if (i >= 10 && i < 30)
      early.push_back(resident_kib());
    else if (i >= 80)
      late.push_back(resident_kib());
  }
  const long before = median(early), after = median(late);
  EXPECT_LT(after - before, 16 * 1024) << "resident memory grew from " << before << " to " << after
                                       << " KiB (medians of cycles 10-29, 80-99)";
  gst_object_unref(pipeline);
  }
}
