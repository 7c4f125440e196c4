// prn-selfcheck: trains the light PRN configuration on generated textures with
// one planted defect kind, then scores held-out images: a check that the core
// builds, learns and localises on this machine. Writes a heatmap grid PNG, the
// model file and a metrics JSON.
//
//   prn-selfcheck [--out DIR] [--steps N] [--kind scratch|spot|hole] [--seed S]
//                 [--threads N] [--config light|paper]
#include "common/args.h"
#include "common/images.h"
#include "common/main.h"
#include "common/progress.h"

#include "prn/error.h"
#include "prn/metrics.h"
#include "prn/model.h"
#include "prn/model_io.h"
#include "prn/postprocess.h"
#include "prn/state_dict.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"

#include <filesystem>
#include <iostream>

namespace {

struct SelfcheckParams {
  std::string out = "out/selfcheck";
  std::string config = "light";
  std::string kind = "scratch";
  int64_t steps = 200;
  int64_t batch_normal = 4, batch_defect = 4;
  uint64_t seed = 2024;
  int threads = 0;
  double lr = 1e-3;
};

void usage(const char *argv0) {
  std::printf("usage: %s [options]\n"
              "  --out DIR        output folder (default out/selfcheck)\n"
              "  --steps N        training steps (default 200)\n"
              "  --kind K         planted defect kind: scratch, spot or hole (default scratch)\n"
              "  --config C       model configuration: light or paper (default light)\n"
              "  --seed S         seed of data and weights (default 2024)\n"
              "  --threads N      intra-op threads (default: LibTorch's choice)\n",
              argv0);
}

SelfcheckParams parse(int argc, char **argv) {
  SelfcheckParams p;
  prn::cli::Args args(argc, argv);
  while (args.next()) {
    const std::string &a = args.option();
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--out") {
      p.out = args.value();
    } else if (a == "--steps") {
      p.steps = args.integer();
    } else if (a == "--kind") {
      p.kind = args.value();
    } else if (a == "--config") {
      p.config = args.value();
    } else if (a == "--seed") {
      p.seed = static_cast<uint64_t>(args.non_negative());
    } else if (a == "--threads") {
      p.threads = static_cast<int>(args.integer());
    } else {
      usage(argv[0]);
      throw prn::Error("unknown option '" + a + "'");
    }
  }
  PRN_CHECK(p.steps >= 1, "--steps: expected >= 1, got ", p.steps);
  prn::defect_kind_from_string(p.kind);
  return p;
}

int run(const SelfcheckParams &p) {
  if (p.threads > 0)
    torch::set_num_threads(p.threads);
  std::filesystem::create_directories(p.out);
  const auto kind = prn::defect_kind_from_string(p.kind);
  const auto config = prn::ModelConfig::by_name(p.config);
  const int64_t S = config.input_size;
  std::printf("prn-selfcheck: '%s' configuration (%lldx%lld input), planted defect '%s', %lld steps, %d threads\n",
              config.name.c_str(), static_cast<long long>(S), static_cast<long long>(S), p.kind.c_str(),
              static_cast<long long>(p.steps), torch::get_num_threads());
  std::printf("  encoder: randomly initialised from the seed (no ImageNet weights are used by the self-check)\n");

  prn::PrnModel model(config, p.seed);
  prn::SyntheticTextures train_data(S, p.seed);
  model->fit_prototypes(train_data.normal_images(20), p.seed);
  auto opt = prn::make_optimizer(*model, p.lr);

  prn::cli::Progress bar("train", p.steps, "step");
  prn::StepLosses first, last;
  for (int64_t step = 0; step < p.steps; ++step) {
    auto normal = train_data.normal_images(p.batch_normal);
    auto bad = train_data.defective_images(p.batch_defect, kind);
    auto images = torch::cat({normal, bad.images});
    auto masks = torch::cat({torch::zeros({p.batch_normal, 1, S, S}), bad.masks});
    last = prn::train_step(*model, *opt, images, masks);
    if (step == 0)
      first = last;
    char extra[128];
    std::snprintf(extra, sizeof extra, "loss %.4f (focal %.4f, smooth-l1 %.4f)", last.total, last.focal,
                  last.smooth_l1);
    bar.update(step + 1, extra);
  }
  bar.finish();
  // Precise BatchNorm: running statistics re-estimated on training-like batches.
  prn::recalibrate_batchnorm(
      *model, [&] { return torch::cat({train_data.normal_images(p.batch_normal), train_data.defective_images(p.batch_defect, kind).images}); },
      20);
  prn::SyntheticTextures held_out(S, p.seed + 1000);
  auto bad = held_out.defective_images(12, kind);
  auto normal = held_out.normal_images(12);
  auto images = torch::cat({bad.images, normal});
  auto masks = torch::cat({bad.masks, torch::zeros({12, 1, S, S})});
  auto maps = model->anomaly_map(images);
  const double pixel_auroc = prn::auroc(maps, masks);
  auto scores = prn::image_scores(maps, config.top_k);
  auto labels = torch::cat({torch::ones({12}), torch::zeros({12})});
  const double image_auroc = prn::auroc(scores, labels);

  std::vector<cv::Mat> tiles;
  for (int64_t i = 0; i < 6; ++i) {
    tiles.push_back(prn::cli::to_bgr8(images[i]));
    tiles.push_back(prn::cli::to_gray8(masks[i]));
    tiles.push_back(prn::cli::overlay(images[i], maps[i]));
  }
  for (int64_t i = 12; i < 14; ++i) {
    tiles.push_back(prn::cli::to_bgr8(images[i]));
    tiles.push_back(prn::cli::to_gray8(masks[i]));
    tiles.push_back(prn::cli::overlay(images[i], maps[i]));
  }
  const std::string png = p.out + "/heatmaps.png";
  prn::cli::write_png(png, prn::cli::grid(tiles, 6));
  const std::string model_path = p.out + "/selfcheck.prn";
  prn::save_model(model_path, *model,
                  {{"producer", "prn-selfcheck"}, {"defect_kind", p.kind}, {"seed", std::to_string(p.seed)}});
  char json[512];
  std::snprintf(json, sizeof json,
                "{\"config\": \"%s\", \"steps\": %lld, \"defect_kind\": \"%s\", \"loss_first\": %.6f, "
                "\"loss_last\": %.6f, \"pixel_auroc\": %.6f, \"image_auroc\": %.6f}\n",
                config.name.c_str(), static_cast<long long>(p.steps), p.kind.c_str(), first.total, last.total,
                pixel_auroc, image_auroc);
  prn::write_file_atomic(p.out + "/metrics.json", json);

  const bool ok = pixel_auroc >= 0.9 && last.total < first.total;
  std::printf("\nloss %.4f -> %.4f; held-out (12 with '%s', 12 normal): Pixel-AUROC %.4f, Image-AUROC %.4f\n",
              first.total, last.total, p.kind.c_str(), pixel_auroc, image_auroc);
  std::printf("outputs:\n  %s  (rows: image | mask | heatmap overlay; first six defective, then normal)\n"
              "  %s\n  %s/metrics.json\n",
              png.c_str(), model_path.c_str(), p.out.c_str());
  std::printf("self-check %s\n", ok ? "PASSED" : "FAILED (Pixel-AUROC below 0.9 or no learning)");
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  return prn::cli::run_main("prn-selfcheck", [&] { return run(parse(argc, argv)); });
}
