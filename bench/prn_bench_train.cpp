// prn-bench-train: can batch making keep the training step fed? For each
// configuration, the images/s one thread makes training batches at (normal +
// extended + simulated anomalies, prn-train's make_batch) beside the images/s
// of the training step itself (forward, loss, backward, Adam) on the device.
//
//   prn-bench-train [--configs light,paper] [--batch N,E,S] [--steps K] [--device cpu|cuda]
//
// The pool is made by the synthetic texture generator (no files needed).
// Prints a Markdown table; the ratio is the data rate of ONE worker thread over
// the step rate (prn-train runs --workers of them ahead of the loop).
#include "bench_util.h"
#include "train/batcher.h"

#include "prn/synthetic.h"
#include "prn/train_step.h"

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace {

using prn::bench::parse_int;
using prn::bench::seconds_since;
using prn::bench::split_list;

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> configs{"light", "paper"};
  prn::train::BatchRecipe recipe{8, 4, 4};
  int steps = 5;
  std::string device_name = "cpu";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const bool has_value = i + 1 < argc;
      if (a == "--configs" && has_value) configs = split_list(argv[++i]);
      else if (a == "--steps" && has_value) steps = static_cast<int>(parse_int(a, argv[++i], 1));
      else if (a == "--device" && has_value) device_name = argv[++i];
      else if (a == "--batch" && has_value) {
        const auto v = split_list(argv[++i]);
        if (v.size() != 3) {
          std::fprintf(stderr, "prn-bench-train: --batch expects N,E,S\n");
          return 2;
        }
        recipe = {parse_int(a, v[0], 0), parse_int(a, v[1], 0), parse_int(a, v[2], 0)};
      } else {
        std::printf("usage: %s [--configs light,paper] [--batch N,E,S] [--steps K] [--device cpu|cuda]\n"
                    "defaults: both configurations, batch 8,4,4, 5 steps, cpu\n",
                    argv[0]);
        return a == "-h" || a == "--help" ? 0 : 2;
      }
    }
    const torch::Device device(device_name);
    std::printf("training data vs training step: batch %lld = %lld normal + %lld extended + %lld simulated, %d steps, "
                "%s, %d intra-op threads\n\n",
                static_cast<long long>(recipe.total()), static_cast<long long>(recipe.normal),
                static_cast<long long>(recipe.extended), static_cast<long long>(recipe.simulated), steps,
                device_name.c_str(), torch::get_num_threads());
    std::printf("| config | input | data img/s (1 thread) | step img/s | data / step |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    for (const std::string &name : configs) {
      const prn::ModelConfig config = prn::ModelConfig::by_name(name);
      const int64_t S = config.input_size;
      prn::SyntheticTextures gen(S, 7);
      prn::train::TrainingPool pool;
      pool.normals = gen.normal_images(32);
      const prn::SyntheticBatch seen = gen.defective_images(10, prn::DefectKind::Scratch);
      pool.seen_images = seen.images;
      pool.seen_masks = seen.masks;

      prn::train::make_batch(pool, recipe, 1, 0); // warm-up
      auto t0 = std::chrono::steady_clock::now();
      std::vector<prn::train::Batch> batches;
      for (int s = 0; s < steps; ++s)
        batches.push_back(prn::train::make_batch(pool, recipe, 1, s + 1));
      const double data_s = seconds_since(t0);

      prn::PrnModel model(config, 1);
      model->fit_prototypes(pool.normals, 1);
      model->to(device);
      auto opt = prn::make_optimizer(*model, 1e-4);
      prn::train_step(*model, *opt, batches[0].images.to(device), batches[0].masks.to(device)); // warm-up
      if (device.is_cuda())
        torch::cuda::synchronize();
      t0 = std::chrono::steady_clock::now();
      for (const auto &b : batches)
        prn::train_step(*model, *opt, b.images.to(device), b.masks.to(device));
      if (device.is_cuda())
        torch::cuda::synchronize();
      const double step_s = seconds_since(t0);
      const double images = static_cast<double>(steps * recipe.total());
      std::printf("| %s | %lld | %.1f | %.1f | %.1fx |\n", name.c_str(), static_cast<long long>(S), images / data_s,
                  images / step_s, step_s / data_s);
      std::fflush(stdout);
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "prn-bench-train: %s\n", e.what());
    return 1;
  }
  return 0;
}
