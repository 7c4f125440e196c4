// prn-bench-core: forward time, throughput and peak memory of the PRN network
// for batches of tiles, beside the machine's plain convolution throughput.
//
//   prn-bench-core [--configs paper,light] [--batches 1,8,32] [--repeats 3]
//                  [--processes 3] [--threads N] [--device cpu|cuda] [--prototypes K]
//                  [--conv auto|direct] [--precision fp32|bf16|fp16] [--cuda-graphs]
//
// On CUDA the forward runs as the element runs it: prn::stream::ModelRunner, on a
// stream of its own, maps included (sigmoid), under --precision's autocast, with
// --cuda-graphs replaying one captured graph per batch size.
//
// Each (configuration, batch) runs in child processes of its own, so that its
// peak memory is its own, `--processes` times, the points taking turns; the
// table shows the fastest process of each point and the range of all of them.
// Prints a Markdown table.
#include "bench_util.h"
#include "prn/conv_bn_fold.h"
#include "prn/flops.h"
#include "prn/mixed_precision.h"
#include "prn/model.h"
#include "prn/stream/model_runner.h"

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
#include <optional>
#include <sstream>
#include <spawn.h>
#include <string>
#include <utility>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

using prn::bench::parse_int;
using prn::bench::seconds_since;
using prn::bench::split_list;

struct BenchParams {
  std::vector<std::string> configs{"paper", "light"};
  std::vector<int64_t> batches{1, 8, 32};
  int repeats = 3;
  int processes = 3;
  int threads = 0; // 0: LibTorch's default
  std::string device = "cpu";
  int64_t prototypes = 20;
  std::string conv = "auto"; // the CPU fast path's 3x3 conv algorithm (prn::ConvAlgorithm)
  std::string precision = "fp32";
  bool cuda_graphs = false;
  // child mode
  std::string child_config;
  int64_t child_batch = 0;
};

void usage(const char *argv0) {
  std::printf("usage: %s [options]\n"
              "  --configs LIST    model configurations, comma-separated (default paper,light)\n"
              "  --batches LIST    tiles per forward, comma-separated (default 1,8,32)\n"
              "  --repeats N       timed forwards per process, after one warm-up (default 3)\n"
              "  --processes N     child processes per point; the fastest is shown (default 3)\n"
              "  --threads N       intra-op threads (default: LibTorch's choice)\n"
              "  --device D        cpu or cuda (default cpu)\n"
              "  --prototypes K    prototypes per scale (default 20)\n"
              "  --conv A          3x3 convs on the CPU: auto (Winograd where it applies, the default) or\n"
              "                    direct (oneDNN's direct convolution everywhere)\n"
              "  --precision P     fp32 (default), bf16 or fp16 (CUDA only): autocast, as the element's property\n"
              "                    (the conv limit stays the fp32 conv's)\n"
              "  --cuda-graphs     on CUDA, replay one captured CUDA graph per batch size (the element's\n"
              "                    cuda-graphs property)\n",
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
        p.batches.push_back(parse_int(a, b, 1));
    } else if (a == "--repeats") {
      p.repeats = static_cast<int>(parse_int(a, value(), 1));
    } else if (a == "--processes") {
      p.processes = static_cast<int>(parse_int(a, value(), 1));
    } else if (a == "--threads") {
      p.threads = static_cast<int>(parse_int(a, value(), 1));
    } else if (a == "--device") {
      p.device = value();
    } else if (a == "--prototypes") {
      p.prototypes = parse_int(a, value(), 1);
    } else if (a == "--precision") {
      p.precision = value();
    } else if (a == "--cuda-graphs") {
      p.cuda_graphs = true;
    } else if (a == "--conv") {
      p.conv = value();
    } else if (a == "--child") {
      p.child_config = value();
      p.child_batch = parse_int(a, value(), 1);
    } else {
      std::fprintf(stderr, "unknown option '%s'\n", a.c_str());
      usage(argv[0]);
      return false;
    }
  }
  if (p.conv != "auto" && p.conv != "direct")
    throw std::runtime_error("option --conv: expected auto or direct, got '" + p.conv + "'");
  if (p.device != "cpu" && p.device != "cuda")
    throw std::runtime_error("option --device: expected cpu or cuda, got '" + p.device + "'");
  prn::check_precision(prn::precision_from_name(p.precision), torch::Device(p.device)); // names the accepted ones
  if (p.cuda_graphs && p.device != "cuda")
    throw std::runtime_error("option --cuda-graphs: needs --device cuda");
  if (p.batches.empty() || p.configs.empty())
    throw std::runtime_error("expected at least one configuration (--configs) and one batch size (--batches)");
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
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
  return median(std::move(t));
}

// The machine's plain convolution throughput: one large 3x3 conv (8x256x64x64
// -> 256), in NCHW and in channels-last (the model's layout); the faster counts.
class ConvProbe {
public:
  explicit ConvProbe(const torch::Device &device) : device_(device) {
    for (int f = 0; f < 2; ++f) {
      const auto format = f == 0 ? torch::MemoryFormat::Contiguous : torch::MemoryFormat::ChannelsLast;
      x_[f] = torch::rand({kB, kC, kH, kH}).to(device).contiguous(format);
      w_[f] = torch::rand({kC, kC, 3, 3}).to(device).contiguous(format);
      torch::conv2d(x_[f], w_[f], {}, 1, 1); // oneDNN / cuDNN set-up, untimed
    }
    sync(device_);
  }
  // GFLOP/s of the faster layout, each timed once.
  double gflops() {
    double best = 0;
    for (int f = 0; f < 2; ++f) {
      auto t0 = std::chrono::steady_clock::now();
      torch::conv2d(x_[f], w_[f], {}, 1, 1);
      sync(device_);
      best = std::max(best, 2.0 * kC * kC * 9 * kH * kH * kB / seconds_since(t0) / 1e9);
    }
    return best;
  }

private:
  static constexpr int64_t kB = 8, kC = 256, kH = 64;
  torch::Device device_;
  std::array<torch::Tensor, 2> x_, w_;
};

// One measurement, in this (child) process: prints "RESULT seconds peak_bytes
// of_conv conv_gflops".
int run_child(const BenchParams &p) {
  const torch::Device device = p.device == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(p.device);
  auto c = prn::ModelConfig::by_name(p.child_config);
  c.num_prototypes = p.prototypes;
  prn::PrnModel model(c, 0);
  prn::Scales protos;
  for (int s = 0; s < 3; ++s)
    protos[s] = torch::rand({p.prototypes, prn::kEncoderChannels[s], c.feature_size(s), c.feature_size(s)});
  model->set_prototypes(protos);
  model->to(device);
  model->eval();
  // CUDA: the element's way (its own stream, autocast, graphs); the CPU: the forward itself.
  const prn::Precision precision = prn::precision_from_name(p.precision);
  std::optional<prn::stream::ModelRunner> runner;
  if (device.is_cuda()) {
    prn::stream::RunnerOptions o;
    o.precision = precision;
    o.cuda_graphs = p.cuda_graphs;
    runner.emplace(model, device, o);
  }
  auto x = torch::rand({p.child_batch, 3, c.input_size, c.input_size}).to(device);
  auto forward = [&] {
    if (runner) {
      runner->run(x);
    } else {
      // Autocast around the forward alone: the conv probe below stays fp32.
      prn::AutocastGuard autocast(device, precision);
      model->forward(x);
    }
  };
  torch::InferenceMode guard;
  prn::ConvAlgorithmGuard conv_guard(p.conv == "direct" ? prn::ConvAlgorithm::direct
                                                        : prn::ConvAlgorithm::automatic);
  const long rss_before = status_kib("VmRSS:");
#if PRN_WITH_CUDA
  if (device.is_cuda())
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
  const double sec = time_median(device, p.repeats, forward);
  double peak = static_cast<double>(status_kib("VmHWM:") - rss_before) * 1024.0;
#if PRN_WITH_CUDA
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    peak = static_cast<double>(
        stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak);
  }
#endif
  // The fraction of the machine's limit, on a host whose speed drifts (shared
  // cores, clock changes): rounds of (conv, forward), each forward against the
  // conv measured just before it; the median round. Conv tensors are made only
  // now, so the peak memory above is the forward's own.
  const double flops = prn::count_flops(c, p.prototypes).total_flops * static_cast<double>(p.child_batch);
  ConvProbe probe(device);
  std::vector<double> ratios, limits;
  for (int r = 0; r < p.repeats; ++r) {
    const double limit = probe.gflops();
    auto t0 = std::chrono::steady_clock::now();
    forward();
    sync(device);
    ratios.push_back(flops / seconds_since(t0) / 1e9 / limit);
    limits.push_back(limit);
  }
  std::printf("RESULT %.9f %.0f %.6f %.3f\n", sec, peak, median(ratios), median(limits));
  return 0;
}

struct ChildResult {
  double sec = 0, peak = 0, of_conv = 0, conv = 0;
};

bool spawn_child(const char *self, const BenchParams &p, const std::string &config, int64_t batch,
                 ChildResult &out) {
  std::vector<std::string> args{self,       "--child",   config, std::to_string(batch), "--repeats",
                                std::to_string(p.repeats), "--device", p.device, "--prototypes",
                                std::to_string(p.prototypes), "--conv", p.conv, "--precision", p.precision};
  if (p.cuda_graphs)
    args.push_back("--cuda-graphs");
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
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0)
    text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  auto pos = text.find("RESULT ");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || pos == std::string::npos)
    return false;
  std::istringstream(text.substr(pos + 7)) >> out.sec >> out.peak >> out.of_conv >> out.conv;
  return true;
}

// One (configuration, batch) point and its child processes' results.
struct Point {
  std::string config;
  int64_t batch = 0;
  std::vector<ChildResult> runs;
  int failed = 0;
};

// Runs every point `p.processes` times. The points take turns (every point's
// first process, then every second one...), so a phase of a noisy host does not
// fall on one point's processes only. One progress line per process on stderr.
void measure(const char *self, const BenchParams &p, std::vector<Point> &points) {
  const auto t0 = std::chrono::steady_clock::now();
  const size_t total = points.size() * static_cast<size_t>(p.processes);
  size_t done = 0;
  for (int proc = 0; proc < p.processes; ++proc)
    for (auto &pt : points) {
      ChildResult r;
      const bool ok = spawn_child(self, p, pt.config, pt.batch, r);
      ++done;
      if (ok)
        pt.runs.push_back(r);
      else
        ++pt.failed;
      char what[96] = "failed";
      if (ok)
        std::snprintf(what, sizeof what, "%.1f ms, %.2f of conv", r.sec * 1e3, r.of_conv);
      std::fprintf(stderr, "prn-bench-core: [%zu/%zu] %s batch %lld, process %d of %d: %s (%.0f s elapsed)\n", done,
                   total, pt.config.c_str(), static_cast<long long>(pt.batch), proc + 1, p.processes, what,
                   seconds_since(t0));
    }
}

// One table row: the process with the fastest median forward, the range of
// "of conv" over all processes, the largest peak memory.
void print_row(const Point &pt, int64_t prototypes) {
  const double flops = prn::count_flops(prn::ModelConfig::by_name(pt.config), prototypes).total_flops;
  if (pt.runs.empty()) {
    std::printf("| %s | %lld | %.2f | failed | | | | | | |\n", pt.config.c_str(), static_cast<long long>(pt.batch),
                flops / 1e9);
    return;
  }
  const auto &r = *std::min_element(pt.runs.begin(), pt.runs.end(),
                                    [](const ChildResult &a, const ChildResult &b) { return a.sec < b.sec; });
  double lo = 1e300, hi = 0, peak = 0;
  for (const auto &x : pt.runs) {
    lo = std::min(lo, x.of_conv);
    hi = std::max(hi, x.of_conv);
    peak = std::max(peak, x.peak);
  }
  char range[64] = "-";
  if (pt.runs.size() > 1)
    std::snprintf(range, sizeof range, "%.2f-%.2f", lo, hi);
  const std::string failed = pt.failed > 0 ? " (" + std::to_string(pt.failed) + " failed)" : "";
  const double gflops = flops * static_cast<double>(pt.batch) / r.sec / 1e9;
  std::printf("| %s | %lld | %.2f | %.1f | %.2f | %.1f | %.1f | %.2f | %s%s | %.0f |\n", pt.config.c_str(),
              static_cast<long long>(pt.batch), flops / 1e9, r.sec * 1e3, static_cast<double>(pt.batch) / r.sec, gflops,
              r.conv, r.of_conv, range, failed.c_str(), peak / (1024.0 * 1024.0));
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

    std::vector<Point> points;
    for (const auto &name : p.configs) {
      prn::ModelConfig::by_name(name); // an unknown name fails here, before any child runs
      for (int64_t b : p.batches)
        points.push_back({name, b, {}, 0});
    }
    std::printf("# prn-bench-core\n\n");
    std::printf("device %s, %d intra-op threads, %d timed forwards per process (median), %d processes per point, "
                "%lld prototypes per scale, conv %s, %s%s\n\n",
                p.device.c_str(), torch::get_num_threads(), p.repeats, p.processes,
                static_cast<long long>(p.prototypes), p.conv.c_str(), p.precision.c_str(),
                p.cuda_graphs ? ", CUDA graphs" : "");
    std::fflush(stdout);
    measure(argv[0], p, points);
    std::printf("| config | batch | GFLOP/tile | forward ms | tiles/s | GFLOP/s | conv limit GFLOP/s | of conv | "
                "of conv, all processes | peak mem MiB |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto &pt : points)
      print_row(pt, p.prototypes);
    std::printf("\nforward ms .. of conv: the process of the point with the fastest median forward. Noise on a shared\n"
                "host only ever slows a run down, so the fastest process is the estimate of the software's own cost;\n"
                "\"all processes\" shows how far the slower ones fell.\n"
                "conv limit: one plain 3x3 conv, 8x256x64x64 -> 256 channels, the faster of NCHW and channels-last.\n"
                "of conv: each process alternates conv and forward %d times; each forward's FLOP/s over the\n"
                "conv's just before it, the median of those ratios (robust to a host whose speed drifts).\n"
                "GFLOP/tile counts every conv as a direct convolution. With --conv auto the CPU forward runs its\n"
                "wider 3x3 convs by Winograd F(4x4, 3x3), 36 multiplications where the direct conv does 144, so\n"
                "\"of conv\" can exceed 1; --conv direct shows the direct convolutions alone.\n",
                p.repeats);
    std::printf("\npeak mem: CPU, the resident-set growth during the forwards (the largest of the processes); CUDA, the\n"
                "caching allocator's peak.\n");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "prn-bench-core: %s\n", e.what());
    return 1;
  }
  return 0;
}
