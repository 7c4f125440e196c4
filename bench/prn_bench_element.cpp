// prn-bench-element: throughput of the prnanomaly element in a real pipeline
// (appsrc ! prnanomaly ! fakesink) for GRAY8 webs of several widths, in lines/s,
// beside the bare core forward on the same number of tiles in the same run. The
// difference is the element's overhead (pixel conversion, tiling, resizing,
// blending, regions, meta, messages).
//
//   prn-bench-element [--bundle B | --config light|paper] [--widths 2048,4096,8192]
//                     [--rows N] [--lines-per-buffer L] [--batch-size N] [--device D]
//                     [--repeats R] [--precision fp32|bf16|fp16] [--cuda-graphs]
//
// The element is timed from the end of its warm-up at caps (the model's first
// call of each shape, on blank tiles; its own column) to EOS: the throughput of a
// running line. The bare forward makes the same untimed first calls.
// Element and bare forward run alternately R times (default 3); the table shows
// the fastest of each, which is the least disturbed by whatever else the machine
// does.
// Without --bundle a bundle with random weights of --config (default light) is
// written to a temporary file: speed does not depend on what the weights learnt.
// The element's plugins must be on GST_PLUGIN_PATH (`meson devenv`). Prints a
// Markdown table.
#include "bench_util.h"
#include "prn/bundle.h"
#include "prn/mixed_precision.h"
#include "prn/stream/helper_thread.h"
#include "prn/stream/line_scanner.h"
#include "prn/stream/model_runner.h"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct Params {
  std::string bundle, config = "light", device = "cpu", precision = "fp32";
  std::vector<int64_t> widths{2048, 4096, 8192};
  int64_t rows = 0; // 0: about 9 rows of tiles
  int64_t lines_per_buffer = 64, batch = 8;
  int repeats = 3;
  bool cuda_graphs = false;
};

[[noreturn]] void usage(const char *argv0, int rc) {
  std::printf("usage: %s [--bundle B | --config light|paper] [--widths 2048,4096,8192] [--rows N]\n"
              "          [--lines-per-buffer L] [--batch-size N] [--device cpu|cuda] [--repeats R]\n"
              "          [--precision fp32|bf16|fp16]   (the element's precision property; the bare forward\n"
              "                                          runs under the same autocast)\n"
              "          [--cuda-graphs]   (the element's cuda-graphs property; the bare forward replays the\n"
              "                             same graphs)\n"
              "defaults: --config light, all three widths, about 9 rows of tiles, 64 lines per buffer,\n"
              "          batch size 8, cpu, 3 repeats, fp32\n",
              argv0);
  std::exit(rc);
}

using prn::bench::seconds_since;

std::vector<int64_t> int_list(const std::string &option, const std::string &s) {
  std::vector<int64_t> v;
  for (const std::string &item : prn::bench::split_list(s))
    v.push_back(prn::bench::parse_int(option, item, 1));
  return v;
}

// Runs the element over `rows` rows of a random web. The element warms its model
// up when the caps arrive (one call per call shape on blank tiles, then a latency
// message): `warm_up` is from PLAYING to that message, `seconds` from it to EOS,
// the streaming throughput a line sees once running. Without a warm-up message
// (warm-up=false) `seconds` runs from PLAYING.
struct ElementRun {
  double seconds = 0, warm_up = 0;
};

ElementRun run_element(const Params &p, const std::string &bundle, int64_t width, int64_t rows) {
  std::ostringstream desc;
  desc << "appsrc name=src format=time ! prnanomaly model=\"" << bundle << "\" device=" << p.device
       << " batch-size=" << p.batch << " precision=" << p.precision
       << " cuda-graphs=" << (p.cuda_graphs ? "true" : "false") << " messages=none ! fakesink sync=false";
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch(desc.str().c_str(), &err);
  if (!pipeline || err)
    throw std::runtime_error(std::string("cannot build the pipeline: ") + (err ? err->message : "?"));
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "GRAY8", "width", G_TYPE_INT,
                                      static_cast<int>(width), "height", G_TYPE_INT,
                                      static_cast<int>(p.lines_per_buffer), "framerate", GST_TYPE_FRACTION, 0, 1,
                                      NULL);
  g_object_set(src, "caps", caps, "max-bytes", G_GUINT64_CONSTANT(0), "block", FALSE, NULL);
  gst_caps_unref(caps);
  // Buffers made before the clock starts; the element does not modify pixels.
  std::vector<GstBuffer *> buffers;
  const int64_t stride = (width + 3) / 4 * 4;
  for (int64_t y = 0; y < rows; y += p.lines_per_buffer) {
    const torch::Tensor px = torch::randint(60, 140, {p.lines_per_buffer, stride}, torch::kUInt8);
    GstBuffer *b = gst_buffer_new_memdup(px.data_ptr<uint8_t>(), px.numel());
    GST_BUFFER_PTS(b) = static_cast<GstClockTime>(y);
    buffers.push_back(b);
  }
  // The element's first latency message, timed in the thread that posts it.
  struct Warm {
    std::mutex m;
    std::optional<std::chrono::steady_clock::time_point> at;
  } warm;
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(
      bus,
      [](GstBus *, GstMessage *msg, gpointer data) {
        auto *w = static_cast<Warm *>(data);
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_LATENCY && g_str_has_prefix(GST_MESSAGE_SRC_NAME(msg), "prnanomaly")) {
          std::lock_guard<std::mutex> lock(w->m);
          if (!w->at)
            w->at = std::chrono::steady_clock::now();
        }
        return GST_BUS_PASS;
      },
      &warm, nullptr);
  // The model loads in READY->PAUSED, inside this call; the clock starts after it.
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw std::runtime_error("the pipeline does not start (is the plugin on GST_PLUGIN_PATH?)");
  const auto t0 = std::chrono::steady_clock::now();
  for (GstBuffer *b : buffers)
    gst_app_src_push_buffer(GST_APP_SRC(src), b);
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  GstMessage *msg = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const auto t1 = std::chrono::steady_clock::now();
  const bool failed = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
  gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  ElementRun r;
  const auto start = warm.at.value_or(t0);
  r.seconds = std::chrono::duration<double>(t1 - start).count();
  r.warm_up = std::chrono::duration<double>(start - t0).count();
  gst_object_unref(src);
  gst_object_unref(pipeline);
  if (failed)
    throw std::runtime_error("the pipeline reported an error (run with GST_DEBUG=prnanomaly:4)");
  return r;
}

} // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  Params p;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc)
          usage(argv[0], 2);
        return argv[++i];
      };
      if (a == "--bundle") p.bundle = value();
      else if (a == "--config") p.config = value();
      else if (a == "--widths") p.widths = int_list(a, value());
      else if (a == "--rows") p.rows = prn::bench::parse_int(a, value(), 1);
      else if (a == "--lines-per-buffer") p.lines_per_buffer = prn::bench::parse_int(a, value(), 1);
      else if (a == "--batch-size") p.batch = prn::bench::parse_int(a, value(), 1);
      else if (a == "--device") p.device = value();
      else if (a == "--repeats") p.repeats = static_cast<int>(prn::bench::parse_int(a, value(), 1));
      else if (a == "--precision") p.precision = value();
      else if (a == "--cuda-graphs") p.cuda_graphs = true;
      else if (a == "-h" || a == "--help") usage(argv[0], 0);
      else usage(argv[0], 2);
    }
    std::string bundle_path = p.bundle, temp;
    if (bundle_path.empty()) {
      char tmpl[] = "/tmp/prn-bench-XXXXXX";
      const int fd = mkstemp(tmpl);
      close(fd);
      temp = bundle_path = std::string(tmpl) + ".prn";
      unlink(tmpl);
      prn::stream::run_on_helper_thread([&] {
        prn::Bundle b;
        b.model = prn::PrnModel(prn::ModelConfig::by_name(p.config), 1);
        const int64_t S = b.model->config().input_size;
        b.model->fit_prototypes(torch::rand({10, 3, S, S}), 1);
        b.category = "bench";
        prn::save_bundle(bundle_path, b);
      });
    }
    // LibTorch work of this process off its main thread, which (like
    // gst-launch-1.0's) never runs a parallel region: see prn/stream/helper_thread.h.
    const torch::Device device(p.device == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(p.device));
    const prn::Precision precision = prn::precision_from_name(p.precision);
    prn::check_precision(precision, device);
    auto load = [&] {
      prn::Bundle b = prn::load_bundle(bundle_path);
      b.model->eval();
      b.model->to(device);
      return b;
    };
    int64_t S = 0;
    std::string config_name;
    prn::stream::run_on_helper_thread([&] {
      const prn::Bundle b = load();
      S = b.model->config().input_size;
      config_name = b.model->config().name;
    });

    std::printf("prnanomaly element vs bare core forward: %s config (input %lld px), batch %lld, %lld lines per "
                "buffer, %s%s, %s, %d threads\n\n",
                config_name.c_str(), static_cast<long long>(S), static_cast<long long>(p.batch),
                static_cast<long long>(p.lines_per_buffer), p.device.c_str(),
                p.cuda_graphs ? " (CUDA graphs)" : "", p.precision.c_str(),
                at::get_num_threads());
    std::printf("| width | rows | tiles | element lines/s | core lines/s | element overhead | warm-up ms |\n");
    std::printf("|------:|-----:|------:|----------------:|-------------:|-----------------:|-----------:|\n");
    for (int64_t width : p.widths) {
      // The tiles the element scores: count them with the same scanner and a
      // scorer that only counts.
      prn::stream::ScannerConfig c;
      c.model_size = S;
      c.batch = p.batch;
      const int64_t rows = p.rows > 0 ? p.rows : (8 * c.stride() + c.tile()) / p.lines_per_buffer * p.lines_per_buffer;
      // The model calls the element makes: replayed with the same scanner and a
      // scorer that only records the batch sizes.
      std::vector<int64_t> calls, call_sizes;
      int64_t tiles = 0;
      std::thread([&] {
        prn::stream::LineScanner counter(c, width, [&](const torch::Tensor &t) {
          calls.push_back(t.size(0));
          tiles += t.size(0);
          return torch::zeros({t.size(0), 1, S, S});
        });
        for (int64_t y = 0; y < rows; y += p.lines_per_buffer) {
          counter.push(torch::zeros({p.lines_per_buffer, width, 3}, torch::kUInt8));
          counter.take(counter.rows_ready());
        }
        counter.finish();
        call_sizes = counter.call_sizes();
      }).join();
      run_element(p, bundle_path, width, p.lines_per_buffer * 2); // warm-up
      double element_s = 1e30, core_s = 1e30, warm_s = 1e30;
      for (int r = 0; r < p.repeats; ++r) {
        const ElementRun e = run_element(p, bundle_path, width, rows);
        element_s = std::min(element_s, e.seconds);
        warm_s = std::min(warm_s, e.warm_up);
        // The bare forward on the same calls, on a thread of its own as the
        // element's streaming thread is (each thread has its own OpenMP team),
        // with the model loaded there, as the element's is on a helper thread.
        std::thread([&] {
          // Through the element's runner (on CUDA: its own stream, and graphs with
          // --cuda-graphs; on the CPU: the model's anomaly_map under autocast).
          prn::Bundle bundle = load();
          prn::stream::RunnerOptions o;
          o.precision = precision;
          o.cuda_graphs = p.cuda_graphs;
          prn::stream::ModelRunner runner(bundle.model, device, o);
          prn::stream::ModelRunner::StreamScope on_stream(runner);
          const torch::Tensor x = torch::rand({p.batch, 3, S, S}).to(device);
          // One untimed call per call size, as the element warms up at caps.
          for (int64_t n : call_sizes)
            runner.run(x.narrow(0, 0, n)).to(torch::kCPU);
          const auto t0 = std::chrono::steady_clock::now();
          for (int64_t n : calls)
            runner.run(x.narrow(0, 0, n)).to(torch::kCPU);
          core_s = std::min(core_s, seconds_since(t0));
        }).join();
      }
      std::printf("| %5lld | %4lld | %5lld | %15.1f | %12.1f | %15.1f%% | %10.1f |\n", static_cast<long long>(width),
                  static_cast<long long>(rows), static_cast<long long>(tiles), rows / element_s, rows / core_s,
                  100.0 * (element_s / core_s - 1.0), 1e3 * warm_s);
      std::fflush(stdout);
    }
    if (!temp.empty())
      unlink(temp.c_str());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "prn-bench-element: %s\n", e.what());
    return 1;
  }
  return 0;
}
