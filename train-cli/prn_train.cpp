// prn-train: trains a PRN model on one category (normal images plus a few seen
// anomalies with masks) and writes the bundle the prnanomaly element loads.
//
//   prn-train --data CATEGORY_FOLDER --out model.prn [options]     (--help lists them)
#include "common/args.h"
#include "common/main.h"
#include "common/progress.h"
#include "train/batcher.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/loss_plot.h"
#include "train/metrics_log.h"

#include "prn/bundle.h"
#include "prn/data/dataset.h"
#include "prn/data/linescan.h"
#include "prn/error.h"
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

struct TrainParams {
  std::string data, layout = "auto", out, log_dir;
  std::string config = "paper";
  int64_t epochs = 700, steps = 0;
  prn::train::BatchRecipe recipe;
  int64_t seen = 10;
  std::string seen_folder, textures, backbone, resume;
  std::vector<std::string> seen_kinds; // draw seen anomalies from these defect kinds only
  double lr = 1e-4, weight_decay = 1e-2, holdout = 0.1;
  uint64_t seed = 0;
  int threads = 0, workers = 2;
  int64_t checkpoint_every = 10; // epochs
  int64_t bn_batches = 20;
  int64_t stop_after = 0; // steps in this invocation; 0: no limit
  std::string device = "cpu";
  std::string precision = "fp32";
  prn::train::DistOptions dist; // data parallel: --world-size, --rank, --local-rank, --master
};

void usage() {
  std::printf(
      "usage: prn-train --data FOLDER --out BUNDLE.prn [options]\n"
      "data:\n"
      "  --data FOLDER        a category folder (MVTec AD, BTAD, KolektorSDD2 or DAGM layout)\n"
      "  --layout L           auto | mvtec | btad | ksdd2 | dagm (default auto)\n"
      "  --seen N             seen anomalies drawn from the test split (default 10; removed from evaluation)\n"
      "  --seen-kinds LIST    draw the seen anomalies from these defect kinds only (comma-separated)\n"
      "  --seen-folder DIR    use these seen anomalies instead (masks in DIR/masks)\n"
      "  --textures DIR       foreign textures for simulated anomalies (any images, e.g. DTD, or GIMP .pat\n"
      "                       patterns, e.g. /usr/share/gimp/2.0/patterns);\n"
      "                       default: augmented normal images\n"
      "  --holdout F          share of normal training images kept for calibration (default 0.1)\n"
      "model:\n"
      "  --config C           paper | light (default paper)\n"
      "  --backbone FILE      torchvision resnet18 weights (strongly advised; without: random encoder)\n"
      "training:\n"
      "  --epochs N           epochs (default 700; an epoch = one pass of the normal images)\n"
      "  --steps N            a step count instead of epochs\n"
      "  --batch N,E,S        normal, extended, simulated images per batch (default 32,16,16)\n"
      "  --lr X --weight-decay X   Adam (default 1e-4, 1e-2)\n"
      "  --seed S             seed of everything (default 0)\n"
      "  --threads N          intra-op threads of the model (default: LibTorch's)\n"
      "  --workers N          batch-making threads (default 2)\n"
      "  --device D           cpu | cuda | cuda:N (default cpu)\n"
      "  --precision P        fp32 | bf16 | fp16: mixed precision of the forward pass (autocast; the loss\n"
      "                       stays float32; fp16 with dynamic loss scaling, CUDA only) (default fp32)\n"
      "  --checkpoint-every N epochs between checkpoints (default 10)\n"
      "  --resume CKPT        continue a run exactly where its checkpoint stopped\n"
      "  --stop-after N       stop after N steps of this invocation, with a checkpoint (time-sliced training)\n"
      "  --log-dir DIR        metrics.jsonl, loss.png, checkpoint.ckpt (default BUNDLE.prn without .prn + '-train')\n"
      "data parallel (torch.distributed: gloo on cpu, nccl on cuda; docs/training.md):\n"
      "  torchrun --nproc-per-node N --no-python prn-train ...   sets all of these; or, per process:\n"
      "  --world-size N       processes in the run (default WORLD_SIZE, else 1); the --batch total is\n"
      "                       the global batch, shared equally (it must be divisible by N)\n"
      "  --rank R             this process, 0 to N-1 (default RANK); rank 0 writes the outputs\n"
      "  --local-rank L       its GPU for --device cuda (default LOCAL_RANK, else the rank)\n"
      "  --master ADDR:PORT   where rank 0 hosts the rendezvous (default MASTER_ADDR:MASTER_PORT,\n"
      "                       else 127.0.0.1:29500)\n");
}

TrainParams parse(int argc, char **argv) {
  TrainParams p;
  prn::cli::Args args(argc, argv);
  while (args.next()) {
    const std::string &a = args.option();
    if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else if (a == "--data") p.data = args.value();
    else if (a == "--layout") p.layout = args.value();
    else if (a == "--out") p.out = args.value();
    else if (a == "--log-dir") p.log_dir = args.value();
    else if (a == "--config") p.config = args.value();
    else if (a == "--epochs") p.epochs = args.integer();
    else if (a == "--steps") p.steps = args.integer();
    else if (a == "--batch") {
      auto v = args.list();
      std::vector<int64_t> n;
      for (const auto &x : v) {
        try {
          n.push_back(std::stoll(x));
        } catch (const std::exception &) {
          n.push_back(-1);
        }
      }
      PRN_CHECK(n.size() == 3 && n[0] >= 1 && n[1] >= 0 && n[2] >= 0,
                "option --batch: expected N,E,S (normal >= 1, extended >= 0, simulated >= 0), got ", v.size(),
                " values");
      p.recipe = {n[0], n[1], n[2]};
    } else if (a == "--seen") p.seen = args.integer();
    else if (a == "--seen-folder") p.seen_folder = args.value();
    else if (a == "--seen-kinds") p.seen_kinds = args.list();
    else if (a == "--textures") p.textures = args.value();
    else if (a == "--backbone") p.backbone = args.value();
    else if (a == "--resume") p.resume = args.value();
    else if (a == "--lr") p.lr = args.real();
    else if (a == "--weight-decay") p.weight_decay = args.real();
    else if (a == "--holdout") p.holdout = args.real();
    else if (a == "--seed") p.seed = static_cast<uint64_t>(args.non_negative());
    else if (a == "--threads") p.threads = static_cast<int>(args.integer());
    else if (a == "--workers") p.workers = static_cast<int>(args.integer());
    else if (a == "--device") p.device = args.value();
    else if (a == "--precision") p.precision = args.value();
    else if (a == "--checkpoint-every") p.checkpoint_every = args.integer();
    else if (a == "--stop-after") p.stop_after = args.integer();
    else if (a == "--world-size") p.dist.world_size = static_cast<int>(args.integer());
    else if (a == "--rank") p.dist.rank = static_cast<int>(args.integer());
    else if (a == "--local-rank") p.dist.local_rank = static_cast<int>(args.integer());
    else if (a == "--master") p.dist.master = args.value();
    else {
      usage();
      throw prn::Error("unknown option '" + a + "'");
    }
  }
  PRN_CHECK(!p.data.empty(), "--data is required (a category folder)");
  PRN_CHECK(!p.out.empty(), "--out is required (the bundle file to write)");
  PRN_CHECK(p.epochs >= 1 || p.steps >= 1, "--epochs or --steps must be >= 1");
  PRN_CHECK(p.steps >= 0, "--steps: expected >= 0, got ", p.steps);
  PRN_CHECK(p.seen >= 0, "--seen: expected >= 0, got ", p.seen);
  PRN_CHECK(p.holdout > 0 && p.holdout < 1, "--holdout: expected a share in (0, 1), got ", p.holdout);
  PRN_CHECK(p.workers >= 1, "--workers: expected >= 1, got ", p.workers);
  PRN_CHECK(p.checkpoint_every >= 1, "--checkpoint-every: expected >= 1, got ", p.checkpoint_every);
  if (p.log_dir.empty()) {
    fs::path o(p.out);
    p.log_dir = (o.parent_path() / (o.stem().string() + "-train")).string();
  }
  return p;
}

torch::Tensor load_all(const std::vector<prn::data::Sample> &samples, int64_t size, bool masks) {
  std::vector<torch::Tensor> out;
  for (const auto &s : samples)
    out.push_back(masks ? prn::data::load_mask(s.mask_path, size) : prn::data::load_image(s.image_path, size));
  return out.empty() ? torch::Tensor() : torch::stack(out);
}

std::string relative(const std::string &root, const std::string &path) {
  return fs::relative(path, root).string();
}

int run(const TrainParams &p) {
  if (p.threads > 0)
    torch::set_num_threads(p.threads);
  const auto dist = prn::train::resolve_dist_config(p.dist);
  const prn::train::Shard shard{dist.rank, dist.world_size};
  prn::train::check_shard(p.recipe, shard);
  const bool lead = dist.rank == 0; // rank 0 writes the checkpoints, logs and bundle
  torch::Device device = prn::train::process_device(p.device, dist);
  PRN_CHECK(!device.is_cuda() || torch::cuda::is_available(), "--device ", p.device,
            ": LibTorch sees no CUDA device on this machine");
  const prn::Precision precision = prn::precision_from_name(p.precision);
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
  if (!lead && !std::freopen("/dev/null", "w", stdout)) // one voice: the other ranks print only their errors
    throw prn::Error("rank " + std::to_string(dist.rank) + ": cannot redirect stdout to /dev/null");
  auto config = prn::ModelConfig::by_name(p.config);
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

  prn::PrnModel model(config, p.seed);
  if (!p.backbone.empty()) {
    model->encoder()->load_torchvision(p.backbone);
    std::printf("  encoder: ImageNet weights from %s\n", p.backbone.c_str());
  } else {
    // The fallback: a seeded random encoder whose BatchNorm statistics are fitted
    // on the normal training images (data-dependent initialisation; identical on
    // every rank, so nothing to broadcast). docs/training.md, "Without ImageNet weights".
    model->encoder()->fit_batchnorm(pool.normals);
    if (lead)
      std::fprintf(stderr,
                   "\n*** WARNING: no --backbone given: the ResNet-18 encoder keeps a RANDOM (seeded) initialisation,\n"
                   "*** its BatchNorm statistics fitted on the normal training images. Localisation quality will be\n"
                   "*** far below the paper's. Pass torchvision's resnet18 file (resnet18-f37072fd.pth) with --backbone.\n\n");
  }
  model->fit_prototypes(pool.normals, p.seed);
  model->to(device);
  if (group) { // every rank starts from rank 0's weights and prototypes, and normalises with the global batch
    prn::broadcast_model(*model, *group);
    prn::set_batchnorm_reducer(*model, group);
  }
  auto optimizer = prn::make_optimizer(*model, p.lr, p.weight_decay);

  const int64_t steps_per_epoch = (pool.normals.size(0) + p.recipe.normal - 1) / p.recipe.normal;
  const int64_t total = p.steps > 0 ? p.steps : p.epochs * steps_per_epoch;
  const int64_t checkpoint_steps = p.checkpoint_every * steps_per_epoch;
  std::map<std::string, std::string> run_id{{"config", config.name},
                                            {"seed", std::to_string(p.seed)},
                                            {"dataset", listing.listing_hash()},
                                            {"batch", std::to_string(p.recipe.normal) + "," +
                                                          std::to_string(p.recipe.extended) + "," +
                                                          std::to_string(p.recipe.simulated)},
                                            {"prototypes", std::to_string(model->num_prototypes())}};
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
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<prn::train::LossSeries> curves = prn::train::loss_series(history);
  prn::cli::Progress bar("train", total - start, "step", lead ? stderr : stdout);
  prn::train::BatchQueue queue(pool, p.recipe, p.seed, start, p.workers, 2 * p.workers, shard);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t step = start;
  bool interrupted = false; // decided together after each step (a rank alone must not skip a collective)
  for (; step < total && !interrupted && (p.stop_after <= 0 || step - start < p.stop_after); ++step) {
    auto batch = queue.next();
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
                       {"seed", std::to_string(p.seed)},         {"precision", p.precision},         {"dataset_hash", listing.listing_hash()},
                       {"processes", std::to_string(dist.world_size)},
                       {"dataset_layout", listing.layout},       {"steps", std::to_string(total)},
                       {"backbone", p.backbone.empty() ? "random (seeded)" : fs::path(p.backbone).filename().string()},
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
  return prn::cli::run_main("prn-train", [&] { return run(parse(argc, argv)); });
}
