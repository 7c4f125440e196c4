// prn-bench-augment: where batch making's time goes. Milliseconds per call of
// each anomaly-synthesis step prn-train's batches are made of (Perlin noise and
// masks, DRAEM's augmenters, simulated and extended anomalies) on one image of
// the given size, on the calling thread.
//
//   prn-bench-augment [--size N] [--reps N] [--threads N]
//
// prn-bench-train answers whether batch making keeps the training step fed; this
// table says which step to make faster when it does not. Images are uniform
// noise, the seen defect an ellipse of about 6% of the image.
#include "bench_util.h"

#include "augment/augmenters.h"
#include "augment/geometry.h"
#include "prn/augment/extended.h"
#include "prn/augment/perlin.h"
#include "prn/augment/simulated.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace {

namespace aug = prn::augment;
namespace det = prn::augment::detail;

using prn::bench::parse_int;
using prn::bench::seconds_since;

struct Params {
  int64_t size = 256;
  int64_t reps = 30;
  int64_t threads = 0; // 0: LibTorch's choice
};

void usage(const char *argv0) {
  std::printf("usage: %s [--size N] [--reps N] [--threads N]\n"
              "  --size N     image side in pixels (default 256, the paper configuration's input)\n"
              "  --reps N     timed calls per step after one warm-up call (default 30)\n"
              "  --threads N  intra-op threads (default: LibTorch's choice)\n",
              argv0);
}

at::Generator gen(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

void row(const Params &p, const std::string &name, const std::function<void()> &fn) {
  fn(); // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < p.reps; ++i)
    fn();
  const double ms = 1e3 * seconds_since(t0) / static_cast<double>(p.reps);
  std::printf("| %s | %.4f | %.0f |\n", name.c_str(), ms, 1e3 / ms);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  Params p;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const bool has_value = i + 1 < argc;
      if (a == "--size" && has_value) p.size = parse_int(a, argv[++i], 16);
      else if (a == "--reps" && has_value) p.reps = parse_int(a, argv[++i], 1);
      else if (a == "--threads" && has_value) p.threads = parse_int(a, argv[++i], 1);
      else {
        usage(argv[0]);
        return a == "-h" || a == "--help" ? 0 : 2;
      }
    }
    if (p.threads > 0)
      torch::set_num_threads(static_cast<int>(p.threads));
    const int64_t S = p.size;
    auto g_img = gen(50);
    const auto normal = at::rand({3, S, S}, g_img, torch::kFloat32);
    const auto source = at::rand({3, S, S}, g_img, torch::kFloat32);
    auto yy = torch::arange(S).view({S, 1}).to(torch::kFloat64);
    auto xx = torch::arange(S).view({1, S}).to(torch::kFloat64);
    const double cy = 0.47 * S, cx = 0.39 * S, ry = 0.08 * S, rx = 0.12 * S;
    const auto mask = ((((yy - cy) / ry).pow(2) + ((xx - cx) / rx).pow(2)) <= 1).to(torch::kFloat32).unsqueeze(0);
    auto g = gen(0);

    std::printf("anomaly synthesis, one %lldx%lld image per call, %lld calls per step, %d intra-op threads\n\n",
                static_cast<long long>(S), static_cast<long long>(S), static_cast<long long>(p.reps),
                torch::get_num_threads());
    std::printf("| step | ms/call | calls/s |\n|---|---:|---:|\n");
    const int64_t cells = std::max<int64_t>(1, S / 8);
    row(p, "perlin_noise (" + std::to_string(cells) + " x " + std::to_string(cells) + " cells)",
        [&] { aug::perlin_noise(S, S, cells, cells, g); });
    row(p, "rotate (1 channel, 30 degrees)", [&] { det::rotate(normal.slice(0, 0, 1), 30.0); });
    row(p, "perlin_mask", [&] { aug::perlin_mask(S, S, g); });
    row(p, "draem_augment (3 of 10 augmenters)", [&] { aug::draem_augment(source, g); });
    row(p, "simulate_anomaly", [&] { aug::simulate_anomaly(normal, source, g); });
    row(p, "extend_anomaly (defaults)", [&] { aug::extend_anomaly(normal, source, mask, g); });
    aug::ExtendedOptions all;
    all.p_blur = all.p_noise = all.p_grid = all.p_elastic = 1;
    row(p, "extend_anomaly (every step)", [&] { aug::extend_anomaly(normal, source, mask, g, all, mask); });
    for (int i = 0; i < det::kDraemAugmenters; ++i)
      row(p, std::string("DRAEM augmenter: ") + det::draem_augmenter_name(i),
          [&] { det::apply_draem_augmenter(i, source, g); });
  } catch (const std::exception &e) {
    std::fprintf(stderr, "prn-bench-augment: %s\n", e.what());
    return 1;
  }
  return 0;
}
