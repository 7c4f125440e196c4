// prn-train: trains a PRN model on one category (normal images plus a few seen
// anomalies with masks) and writes the bundle the prnanomaly element loads.
//
//   prn-train --data CATEGORY_FOLDER --out model.prn [options]     (--help lists them)
#include "common/args.h"
#include "common/main.h"
#include "common/progress.h"
#include "train/adaptation.h"
#include "train/batch_preview.h"
#include "train/batcher.h"
#include "train/train_params.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/loss_plot.h"
#include "train/metrics_log.h"

#include "prn/bundle.h"
#include "prn/data/dataset.h"
#include "prn/data/linescan.h"
#include "prn/error.h"
#include "prn/mixed_precision.h"
#include "prn/postprocess.h"
#include "prn/state_dict.h"
#include "prn/train_step.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

// Set by SIGINT/SIGTERM; the loop saves a checkpoint and stops.
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

torch::Tensor load_all(const std::vector<prn::data::Sample> &samples, int64_t size, bool masks) {
  std::vector<torch::Tensor> out;
  for (const auto &s : samples)
    out.push_back(masks ? prn::data::load_mask(s.mask_path, size) : prn::data::load_image(s.image_path, size));
  return out.empty() ? torch::Tensor() : torch::stack(out);
}

std::string relative(const std::string &root, const std::string &path) {
  return fs::relative(path, root).string();
}

int run(const prn::train::TrainParams &p) {
  if (p.threads > 0)
    torch::set_num_threads(p.threads);
  const auto dist = prn::train::resolve_dist_config(p.dist);
  const prn::train::Shard shard{dist.rank, dist.world_size};
  prn::train::check_shard(p.recipe, shard);
  const bool lead = dist.rank == 0; // rank 0 writes the checkpoints, logs and bundle
  torch::Device device = prn::train::process_device(p.device, dist);
  PRN_CHECK(!device.is_cuda() || torch::cuda::is_available(), "--device ", p.device,
            ": LibTorch sees no CUDA device on this machine");
  prn::Precision precision = p.precision == "auto" ? prn::Precision::Float32 : prn::precision_from_name(p.precision);
  prn::check_precision(precision, device);
  prn::LossScaler scaler;
  std::shared_ptr<prn::train::ProcessGroup> group;
  if (dist.world_size > 1) {
    group = std::make_shared<prn::train::ProcessGroup>(dist, device);
    if (lead)
      std::printf("prn-train: data parallel, %d processes (%s, rendezvous %s:%d), %lld images per process and step\n",
                  dist.world_size, group->backend_name().c_str(), dist.master_addr.c_str(), dist.master_port,
                  static_cast<long long>(p.recipe.total() / dist.world_size));
  }
  // auto on the CPU: bf16 where a timed convolution runs faster in it (on CUDA auto
  // stays fp32). The ranks must agree, so bf16 only if every rank measured it
  // faster; every rank of a data-parallel run takes part, whatever its options.
  const bool probe = p.precision == "auto" && device.is_cpu();
  const prn::AutoPrecision a = probe ? prn::auto_cpu_precision() : prn::AutoPrecision{prn::Precision::Float32, 0.0};
  const bool slower = a.precision != prn::Precision::BFloat16;
  const bool any_slower = group ? group->any(slower) : slower;
  if (probe) {
    precision = any_slower ? prn::Precision::Float32 : prn::Precision::BFloat16;
    if (lead)
      std::printf("prn-train: precision auto: %s%s\n", prn::auto_precision_reason(precision, a.speedup).c_str(),
                  any_slower && !slower ? " (another process measured it slower)" : "");
  }
  if (!lead && !std::freopen("/dev/null", "w", stdout)) // one voice: the other ranks print only their errors
    throw prn::Error("rank " + std::to_string(dist.rank) + ": cannot redirect stdout to /dev/null");
  const auto config = prn::train::model_config(p);
  const int64_t S = config.input_size;

  auto listing = prn::data::read_category(p.data, p.layout);
  if (!p.seen_folder.empty())
    prn::data::use_seen_folder(listing, p.seen_folder);
  else if (p.seen > 0 && p.seen_kinds.empty())
    prn::data::draw_seen_anomalies(listing, p.seen, p.seed);
  else if (p.seen > 0) {
    // Draw from the named kinds only; the other kinds stay whole in the test split.
    auto known = listing.defect_kinds();
    for (const auto &k : p.seen_kinds)
      PRN_CHECK(std::find(known.begin(), known.end(), k) != known.end(), "--seen-kinds: '", k, "' is not a defect kind of '",
                p.data, "'");
    auto sub = listing;
    sub.test.clear();
    std::vector<prn::data::Sample> rest;
    for (const auto &s : listing.test)
      (s.anomalous && std::find(p.seen_kinds.begin(), p.seen_kinds.end(), s.defect) != p.seen_kinds.end() ? sub.test
                                                                                                           : rest)
          .push_back(s);
    prn::data::draw_seen_anomalies(sub, p.seen, p.seed);
    listing.seen = sub.seen;
    listing.test = rest;
    listing.test.insert(listing.test.end(), sub.test.begin(), sub.test.end());
  }
  // Hold out normal training images for calibration (a seeded shuffle).
  auto normals = listing.train_normal;
  PRN_CHECK(normals.size() >= 2, "'", p.data, "' has ", normals.size(),
            " normal training images; at least 2 are needed (one held out for calibration)");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(p.seed + 17);
  auto perm = at::randperm(static_cast<int64_t>(normals.size()), gen);
  const int64_t n_hold = std::max<int64_t>(1, static_cast<int64_t>(std::llround(p.holdout * double(normals.size()))));
  std::vector<prn::data::Sample> train_normals, hold_normals;
  for (int64_t i = 0; i < perm.numel(); ++i)
    (i < n_hold ? hold_normals : train_normals).push_back(normals[static_cast<size_t>(perm[i].item<int64_t>())]);

  std::printf("prn-train: category '%s' (%s layout): %zu normal images for training, %zu held out, %zu seen anomalies\n",
              listing.category.c_str(), listing.layout.c_str(), train_normals.size(), hold_normals.size(),
              listing.seen.size());
  prn::train::TrainingPool pool;
  pool.normals = load_all(train_normals, S, false);
  if (!listing.seen.empty()) {
    pool.seen_images = load_all(listing.seen, S, false);
    pool.seen_masks = load_all(listing.seen, S, true);
  }
  if (!p.textures.empty())
    pool.textures = prn::data::load_texture_folder(p.textures, S);
  if (p.foreground != prn::train::Foreground::None) {
    pool.foregrounds = prn::train::otsu_foreground(pool.normals, p.foreground);
    const double share = pool.foregrounds.mean().item<double>();
    std::printf("  foreground (%s, Otsu): %.1f%% of the normal images' pixels\n", prn::train::foreground_name(p.foreground),
                100.0 * share);
    PRN_CHECK(share > 0.01, "--foreground ", prn::train::foreground_name(p.foreground), ": only ", 100.0 * share,
              "% of the normal images' pixels are foreground; expected an object on a plain background (try the other "
              "side, or none for textures)");
  }
  if (!p.preview.empty()) { // the first batch of this run, to look at; no training
    if (lead) {
      const auto batch = prn::train::make_batch(pool, p.recipe, p.seed, 0);
      prn::train::write_batch_preview(p.preview, batch);
      std::printf("wrote %s: batch 0 of this run (%lld images: image | mask | mask over image)\n", p.preview.c_str(),
                  static_cast<long long>(batch.images.size(0)));
    }
    return 0;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  prn::PrnModel model(config, p.seed);
  if (!p.backbone.empty()) {
    model->encoder()->load_torchvision(p.backbone);
    std::printf("  encoder: weights from %s (frozen)\n", p.backbone.c_str());
  } else {
    // The fallback: a seeded random encoder whose BatchNorm statistics are fitted
    // on the normal training images (data-dependent initialisation; identical on
    // every rank, so nothing to broadcast). docs/training.md, "Without ImageNet weights".
    model->encoder()->fit_batchnorm(pool.normals);
    if (lead)
      std::fprintf(stderr,
                   "\n*** WARNING: no --backbone given: the ResNet-18 encoder starts from a RANDOM (seeded) initialisation%s\n"
                   "*** Localisation quality will be far below the paper's. Pass torchvision's resnet18 file\n"
                   "*** (resnet18-f37072fd.pth) with --backbone, or without it one that prn-pretrain-backbone\n"
                   "*** writes (an encoder pretrained on textures; docs/training.md).\n\n",
                   p.adapt_steps > 0 ? ",\n*** adapted to this data's anomalies first (--adapt-steps)." : ",\n*** its BatchNorm statistics fitted on the normal training images.");
    // On resume the checkpoint holds the adapted encoder.
    if (p.adapt_steps > 0 && p.resume.empty()) {
      prn::train::AdaptationParams ap{p.adapt_steps, p.adapt_lr, p.seed, p.workers};
      const bool done = prn::train::adapt_fallback_encoder(
          *model->encoder(), pool, p.recipe, ap, shard, device, group.get(),
          [&] { return group ? group->any(g_stop != 0) : g_stop != 0; }, lead ? stderr : stdout);
      if (!done) {
        std::fprintf(stderr, "prn-train: interrupted during the encoder adaptation; nothing was saved\n");
        return 130;
      }
      model->encoder()->fit_batchnorm(pool.normals); // statistics of the adapted encoder
    }
  }
  model->fit_prototypes(pool.normals, p.seed);
  model->to(device);
  if (group) { // every rank starts from rank 0's weights and prototypes, and normalises with the global batch
    prn::broadcast_model(*model, *group);
    prn::set_batchnorm_reducer(*model, group);
  }
  auto optimizer = prn::make_optimizer(*model, p.lr, p.weight_decay, p.optimizer);

  const int64_t steps_per_epoch = (pool.normals.size(0) + p.recipe.normal - 1) / p.recipe.normal;
  const int64_t total = p.steps > 0 ? p.steps : p.epochs * steps_per_epoch;
  const int64_t checkpoint_steps = p.checkpoint_every * steps_per_epoch;
  const auto exact = [](double v) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
  };
  std::map<std::string, std::string> run_id{{"config", config.name},
                                            {"seed", std::to_string(p.seed)},
                                            {"dataset", listing.listing_hash()},
                                            {"batch", std::to_string(p.recipe.normal) + "," +
                                                          std::to_string(p.recipe.extended) + "," +
                                                          std::to_string(p.recipe.simulated) +
                                                          (pool.textures.empty() ? std::string()
                                                                                 : " normal-fill " + exact(p.recipe.normal_fill)) +
                                                          (p.foreground == prn::train::Foreground::None
                                                               ? std::string()
                                                               : std::string(" foreground ") + prn::train::foreground_name(p.foreground))},
                                            {"prototypes", std::to_string(model->num_prototypes())},
                                            {"optimizer", prn::weight_decay_name(p.optimizer)}};
  if (p.lr_schedule != prn::LrSchedule::Constant) // (checkpoints of constant-rate runs predate the option)
    run_id["lr_schedule"] = prn::lr_schedule_name(p.lr_schedule);
  if (lead)
    fs::create_directories(p.log_dir);
  const std::string ckpt = p.log_dir + "/checkpoint.ckpt";
  int64_t start = 0;
  if (!p.resume.empty()) {
    start = prn::train::load_checkpoint(p.resume, *model, *optimizer, run_id).step;
    std::printf("  resumed from %s at step %lld\n", p.resume.c_str(), static_cast<long long>(start));
  }
  std::printf("  %lld steps (%lld per epoch), batch %lld = %lld normal + %lld extended + %lld simulated, %d threads\n",
              static_cast<long long>(total), static_cast<long long>(steps_per_epoch),
              static_cast<long long>(p.recipe.total()), static_cast<long long>(p.recipe.normal),
              static_cast<long long>(p.recipe.extended), static_cast<long long>(p.recipe.simulated),
              torch::get_num_threads());

  // On resume the log is cut back to the checkpoint (steps logged after it are
  // run again) and the loss curve starts from the whole run's history.
  const std::string metrics_path = p.log_dir + "/metrics.jsonl";
  std::vector<prn::train::StepMetrics> history;
  if (start > 0 && lead)
    history = prn::train::cut_metrics_log(metrics_path, start);
  std::ofstream log;
  if (lead)
    log.open(metrics_path, start > 0 ? std::ios::app : std::ios::trunc);
  std::vector<prn::train::LossSeries> curves = prn::train::loss_series(history);
  prn::cli::Progress bar("train", total - start, "step", lead ? stderr : stdout);
  prn::train::BatchQueue queue(pool, p.recipe, p.seed, start, p.workers, 2 * p.workers, shard);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t step = start;
  bool interrupted = false; // decided together after each step (a rank alone must not skip a collective)
  for (; step < total && !interrupted && (p.stop_after <= 0 || step - start < p.stop_after); ++step) {
    auto batch = queue.next();
    prn::set_lr(*optimizer, prn::scheduled_lr(p.lr_schedule, p.lr, step, total));
    auto l = prn::train_step(*model, *optimizer, batch.images.to(device), batch.masks.to(device), precision, &scaler,
                             group.get());
    // A signal on any rank stops all of them after this same step.
    interrupted = group ? group->any(g_stop != 0) : g_stop != 0;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ips = static_cast<double>((step - start + 1) * p.recipe.total()) / std::max(secs, 1e-9);
    curves[0].values.push_back(l.total);
    curves[1].values.push_back(l.focal);
    curves[2].values.push_back(l.smooth_l1);
    char line[256];
    std::snprintf(line, sizeof line,
                  "{\"step\": %lld, \"epoch\": %.3f, \"loss\": %.6g, \"focal\": %.6g, \"smooth_l1\": %.6g, "
                  "\"images_per_s\": %.3f}\n",
                  static_cast<long long>(step + 1), double(step + 1) / double(steps_per_epoch), l.total, l.focal,
                  l.smooth_l1, ips);
    if (!lead)
      continue;
    log << line << std::flush;
    char extra[160];
    std::snprintf(extra, sizeof extra, "epoch %.1f loss %.4f focal %.4f sl1 %.4f %.1f img/s",
                  double(step + 1) / double(steps_per_epoch), l.total, l.focal, l.smooth_l1, ips);
    bar.update(step - start + 1, extra);
    if ((step + 1) % checkpoint_steps == 0 && step + 1 < total)
      prn::train::save_checkpoint(ckpt, *model, *optimizer, {step + 1, run_id});
  }
  if (step < total) {
    if (!lead)
      return 130;
    prn::train::save_checkpoint(ckpt, *model, *optimizer, {step, run_id});
    std::fprintf(stderr, "\n%s at step %lld of %lld; checkpoint written to %s\n"
                         "continue with the same options plus --resume %s\n",
                 interrupted ? "interrupted" : "stopped (--stop-after)", static_cast<long long>(step),
                 static_cast<long long>(total), ckpt.c_str(), ckpt.c_str());
    return 130;
  }
  bar.finish();
  std::printf("  the loop waited %.1f s for batches in all\n", queue.waited_seconds());

  // Precise BatchNorm on training batches (all ranks, each its shares, with
  // global statistics), then calibration on the held-out normals (rank 0).
  int64_t bn_step = total;
  prn::recalibrate_batchnorm(
      *model, [&] { return prn::train::make_batch(pool, p.recipe, p.seed, bn_step++, shard).images.to(device); },
      p.bn_batches);
  if (!lead)
    return 0;
  auto held = load_all(hold_normals, S, false).to(device);
  auto maps = model->anomaly_map(held);
  auto scores = prn::image_scores(maps, config.top_k);
  prn::Bundle bundle;
  bundle.model = model;
  bundle.category = listing.category;
  bundle.calibration = prn::calibrate(scores.cpu(), maps.cpu());
  for (const auto &s : listing.seen)
    bundle.seen_anomalies.push_back(relative(listing.root, s.image_path));
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  bundle.provenance = {{"producer", "prn-train " PRN_VERSION}, {"libtorch", PRN_TORCH_VERSION},
                       {"seed", std::to_string(p.seed)},         {"precision", prn::precision_name(precision)},         {"dataset_hash", listing.listing_hash()},
                       {"processes", std::to_string(dist.world_size)},
                       {"dataset_layout", listing.layout},       {"steps", std::to_string(total)},
                       {"backbone", !p.backbone.empty() ? fs::path(p.backbone).filename().string()
                                   : p.adapt_steps > 0 ? "random (seeded), adapted " + std::to_string(p.adapt_steps) + " steps"
                                                       : "random (seeded)"},
                       {"optimizer", prn::weight_decay_name(p.optimizer)},
                       {"lr_schedule", prn::lr_schedule_name(p.lr_schedule)},
                       {"created", when}};
  model->to(torch::kCPU);
  prn::save_bundle(p.out, bundle);
  prn::train::write_loss_plot(p.log_dir + "/loss.png", curves);
  std::printf("\nwrote %s (model id %s)\n  image threshold %.4f, pixel threshold %.4f (from %lld held-out normal images)\n"
              "  log: %s/metrics.jsonl, loss curve: %s/loss.png\n",
              p.out.c_str(), bundle.model_id.c_str(), bundle.calibration.image_threshold,
              bundle.calibration.pixel_threshold, static_cast<long long>(bundle.calibration.normal_images),
              p.log_dir.c_str(), p.log_dir.c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return prn::cli::run_main("prn-train", [&] { return run(prn::train::parse_train_params(argc, argv)); });
}
