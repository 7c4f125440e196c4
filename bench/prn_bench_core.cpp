// prn-bench-core: forward time, throughput and peak memory of the PRN network
// for batches of tiles, beside the machine's plain convolution throughput.
//
//   prn-bench-core [--configs paper,light] [--batches 1,8,32] [--repeats 3]
//                  [--threads N] [--device cpu|cuda] [--prototypes K]
//
// Each (configuration, batch) runs in a child process of its own so that its
// peak memory is its own. Prints a Markdown table.
#include "bench_util.h"
#include "prn/flops.h"
#include "prn/model.h"

#include <torch/torch.h>

#if PRN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

using prn::bench::seconds_since;
using prn::bench::split_list;

struct BenchParams {
  std::vector<std::string> configs{"paper", "light"};
  std::vector<int64_t> batches{1, 8, 32};
  int repeats = 3;
  int threads = 0; // 0: LibTorch's default
  std::string device = "cpu";
  int64_t prototypes = 20;
  // child mode
  std::string child_config;
  int64_t child_batch = 0;
};

void usage(const char *argv0) {
  std::printf("usage: %s [options]\n"
              "  --configs LIST    model configurations, comma-separated (default paper,light)\n"
              "  --batches LIST    tiles per forward, comma-separated (default 1,8,32)\n"
              "  --repeats N       timed forwards per point, after one warm-up (default 3)\n"
              "  --threads N       intra-op threads (default: LibTorch's choice)\n"
              "  --device D        cpu or cuda (default cpu)\n"
              "  --prototypes K    prototypes per scale (default 20)\n",
              argv0);
}

bool parse(int argc, char **argv, BenchParams &p) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::runtime_error("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--configs") {
      p.configs = split_list(value());
    } else if (a == "--batches") {
      p.batches.clear();
      for (auto &b : split_list(value()))
        p.batches.push_back(std::stoll(b));
    } else if (a == "--repeats") {
      p.repeats = std::stoi(value());
    } else if (a == "--threads") {
      p.threads = std::stoi(value());
    } else if (a == "--device") {
      p.device = value();
    } else if (a == "--prototypes") {
      p.prototypes = std::stoll(value());
    } else if (a == "--child") {
      p.child_config = value();
      p.child_batch = std::stoll(value());
    } else {
      std::fprintf(stderr, "unknown option '%s'\n", a.c_str());
      usage(argv[0]);
      return false;
    }
  }
  if (p.repeats < 1 || p.prototypes < 1 || (p.device != "cpu" && p.device != "cuda"))
    throw std::runtime_error("expected --repeats >= 1, --prototypes >= 1 and --device cpu|cuda");
  return true;
}

long status_kib(const char *field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0)
      return std::stol(line.substr(n + 1));
  return -1;
}

void sync(const torch::Device &d) {
  if (d.is_cuda())
    torch::cuda::synchronize();
}

// Median seconds of `repeats` runs of fn after one warm-up.
template <typename F> double time_median(const torch::Device &d, int repeats, F fn) {
  fn();
  sync(d);
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    sync(d);
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// One measurement, in this (child) process: prints "RESULT seconds peak_bytes".
int run_child(const BenchParams &p) {
  torch::Device device(p.device);
  auto c = prn::ModelConfig::by_name(p.child_config);
  c.num_prototypes = p.prototypes;
  prn::PrnModel model(c, 0);
  prn::Scales protos;
  for (int s = 0; s < 3; ++s)
    protos[s] = torch::rand({p.prototypes, prn::kEncoderChannels[s], c.feature_size(s), c.feature_size(s)});
  model->set_prototypes(protos);
  model->to(device);
  model->eval();
  auto x = torch::rand({p.child_batch, 3, c.input_size, c.input_size}).to(device);
  torch::InferenceMode guard;
  const long rss_before = status_kib("VmRSS:");
#if PRN_WITH_CUDA
  if (device.is_cuda())
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
  const double sec = time_median(device, p.repeats, [&] { model->forward(x); });
  double peak = static_cast<double>(status_kib("VmHWM:") - rss_before) * 1024.0;
#if PRN_WITH_CUDA
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    peak = static_cast<double>(
        stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak);
  }
#endif
  std::printf("RESULT %.9f %.0f\n", sec, peak);
  return 0;
}

// The machine's plain convolution throughput: one large 3x3 conv, input and
// weight in `format` (the model runs channels-last; NCHW is measured too, and
// the faster of the two is the limit).
double conv_gflops(const BenchParams &p, torch::MemoryFormat format) {
  torch::Device device(p.device);
  torch::InferenceMode guard;
  const int64_t B = 8, C = 256, H = 64;
  auto x = torch::rand({B, C, H, H}).to(device).contiguous(format);
  auto w = torch::rand({C, C, 3, 3}).to(device).contiguous(format);
  const double sec = time_median(device, p.repeats, [&] { torch::conv2d(x, w, {}, 1, 1); });
  return 2.0 * C * C * 9 * H * H * B / sec / 1e9;
}

bool spawn_child(const char *self, const BenchParams &p, const std::string &config, int64_t batch, double &sec,
                 double &peak) {
  std::vector<std::string> args{self,       "--child",   config, std::to_string(batch), "--repeats",
                                std::to_string(p.repeats), "--device", p.device, "--prototypes",
                                std::to_string(p.prototypes)};
  if (p.threads > 0) {
    args.push_back("--threads");
    args.push_back(std::to_string(p.threads));
  }
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0)
    return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return false;
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  auto pos = out.find("RESULT ");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || pos == std::string::npos)
    return false;
  std::istringstream(out.substr(pos + 7)) >> sec >> peak;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  BenchParams p;
  try {
    if (!parse(argc, argv, p))
      return 2;
    if (p.threads > 0)
      torch::set_num_threads(p.threads);
    if (p.device == "cuda" && !torch::cuda::is_available()) {
      std::fprintf(stderr, "prn-bench-core: --device cuda, but LibTorch sees no CUDA device\n");
      return 2;
    }
    if (!p.child_config.empty())
      return run_child(p);

    // The limit: the faster layout, measured before and after the forwards
    // (the best of the four: a quiet moment of the machine counts against the
    // forwards, not for them).
    const double nchw = conv_gflops(p, torch::MemoryFormat::Contiguous);
    const double nhwc = conv_gflops(p, torch::MemoryFormat::ChannelsLast);
    double conv = std::max(nchw, nhwc);
    std::printf("# prn-bench-core\n\n");
    std::printf("device %s, %d intra-op threads, %d timed forwards per point (median), %lld prototypes per scale\n\n",
                p.device.c_str(), torch::get_num_threads(), p.repeats, static_cast<long long>(p.prototypes));
    std::printf("plain 3x3 conv (8x256x64x64 -> 256 channels), before the forwards: NCHW %.1f GFLOP/s, "
                "channels-last %.1f GFLOP/s; \"of conv\" divides by the fastest conv of the run\n\n",
                nchw, nhwc);
    std::printf("| config | batch | GFLOP/tile | forward ms | tiles/s | GFLOP/s | of conv | peak mem MiB |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    struct Row {
      std::string config;
      int64_t batch;
      double flops, sec, peak;
    };
    std::vector<Row> rows;
    for (const auto &name : p.configs) {
      auto c = prn::ModelConfig::by_name(name);
      const double flops = prn::count_flops(c, p.prototypes).total_flops;
      for (int64_t b : p.batches) {
        std::fprintf(stderr, "prn-bench-core: %s, batch %lld\n", name.c_str(), static_cast<long long>(b));
        double sec = 0, peak = 0;
        if (!spawn_child(argv[0], p, name, b, sec, peak))
          sec = 0;
        rows.push_back({name, b, flops, sec, peak});
      }
    }
    const double nchw_after = conv_gflops(p, torch::MemoryFormat::Contiguous);
    const double nhwc_after = conv_gflops(p, torch::MemoryFormat::ChannelsLast);
    conv = std::max({conv, nchw_after, nhwc_after});
    for (const auto &r : rows) {
      if (r.sec <= 0) {
        std::printf("| %s | %lld | %.2f | failed | | | | |\n", r.config.c_str(), static_cast<long long>(r.batch),
                    r.flops / 1e9);
        continue;
      }
      const double gflops = r.flops * static_cast<double>(r.batch) / r.sec / 1e9;
      std::printf("| %s | %lld | %.2f | %.1f | %.2f | %.1f | %.2f | %.0f |\n", r.config.c_str(),
                  static_cast<long long>(r.batch), r.flops / 1e9, r.sec * 1e3, static_cast<double>(r.batch) / r.sec,
                  gflops, gflops / conv, r.peak / (1024.0 * 1024.0));
    }
    std::printf("\nplain 3x3 conv after the forwards: NCHW %.1f GFLOP/s, channels-last %.1f GFLOP/s; "
                "\"of conv\" above divides by %.1f GFLOP/s\n",
                nchw_after, nhwc_after, conv);
    std::printf("\npeak mem: CPU, the resident-set growth during the forwards; CUDA, the caching allocator's peak.\n");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "prn-bench-core: %s\n", e.what());
    return 1;
  }
  return 0;
}
