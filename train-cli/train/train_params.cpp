#include "train/train_params.h"

#include "common/args.h"

#include "prn/error.h"
#include "prn/join_integers.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace prn::train {

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
      "  --normal-fill P      with --textures: share of simulated anomalies filled with an augmented\n"
      "                       normal image instead of a texture (DRAEM's two sources; default 0.5)\n"
      "  --foreground F       none | bright | dark: paste extended anomalies only on the object, found in\n"
      "                       each normal image by Otsu's threshold (bright: object brighter than its\n"
      "                       background) (default none: anywhere, for textures and webs)\n"
      "  --holdout F          share of normal training images kept for calibration (default 0.1)\n"
      "  --preview PNG        write the run's first batch (normal, extended and simulated samples with\n"
      "                       their masks) as a PNG grid to check by eye, and exit without training\n"
      "model:\n"
      "  --config C           paper | light (default paper)\n"
      "  --input-size N       side of the model's input in pixels, a multiple of 16 (paper 256, light 128;\n"
      "                       images are resized to it)\n"
      "  --channels A,B,C     per-scale widths after concatenating features and residuals, doubling per\n"
      "                       scale (paper 128,256,512; light 32,64,128, after a 1x1 projection)\n"
      "  --attention-blocks N multi-size attention blocks per scale (paper 3, light 1; 0: none)\n"
      "  --patch-divisors L   patch sides of the attention as map side / d (paper 1,2,4,8; light 1,2,4)\n"
      "  --head-channels N    width of the full-resolution decoder conv (paper 64, light 16)\n"
      "                       (these five change --config's structure; the bundle records it)\n"
      "  --map-sigma S        smooth the anomaly map with a Gaussian of S pixels (of the model input)\n"
      "                       before scoring, calibration and regions; recorded in the bundle, so\n"
      "                       prn-eval, prn-infer and the element do the same (default 0: none; 4 is\n"
      "                       what anomalib uses; docs/training.md)\n"
      "  --backbone FILE      torchvision resnet18 weights (strongly advised), or without them a file\n"
      "                       from prn-pretrain-backbone (texture-pretrained); without: a random encoder\n"
      "                       (see --adapt-steps)\n"
      "  --adapt-steps N      without --backbone: steps that adapt the random encoder to segment this\n"
      "                       data's anomalies before the prototypes are fitted (default 0: keep it\n"
      "                       random, BatchNorm fitted; docs/training.md)\n"
      "  --adapt-lr X         Adam learning rate of that adaptation (default 1e-3)\n"
      "training:\n"
      "  --epochs N           epochs (default 700; an epoch = one pass of the normal images)\n"
      "  --steps N            a step count instead of epochs\n"
      "  --batch N,E,S        normal, extended, simulated images per batch (default 32,16,16)\n"
      "  --lr X --weight-decay X   Adam (default 1e-4, 1e-2)\n"
      "  --lr-schedule S      constant (the paper's) | cosine: decay from --lr to 0 over the run; a short\n"
      "                       high-rate run ends less at the mercy of its last steps (default constant)\n"
      "  --optimizer O        adamw (weight decay decoupled, default) | adam (weight decay as L2 in the\n"
      "                       gradient, torch.optim.Adam's; collapses short high-lr runs, docs/training.md)\n"
      "  --seed S             seed of everything (default 0)\n"
      "  --threads N          intra-op threads of the model (default: LibTorch's)\n"
      "  --workers N          batch-making threads (default 2)\n"
      "  --device D           cpu | cuda | cuda:N (default cpu)\n"
      "  --precision P        fp32 | bf16 | fp16 | auto: mixed precision of the forward pass (autocast; the\n"
      "                       loss stays float32; fp16 with dynamic loss scaling, CUDA only; auto: bf16 on a\n"
      "                       CPU where a 3x3 convolution timed at start runs at least 1.2x as fast in bf16\n"
      "                       as in fp32, else fp32) (default fp32)\n"
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

TrainParams parse_train_params(int argc, char **argv) {
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
    else if (a == "--map-sigma") p.map_sigma = args.real();
    else if (a == "--input-size") p.input_size = args.integer();
    else if (a == "--channels") {
      p.channels = args.integer_list();
      PRN_CHECK(p.channels.size() == 3, "option --channels: expected 3 widths (one per scale), got ",
                p.channels.size());
    }
    else if (a == "--patch-divisors") p.patch_divisors = args.integer_list();
    else if (a == "--attention-blocks") p.attention_blocks = args.integer();
    else if (a == "--head-channels") p.head_channels = args.integer();
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
      p.recipe.normal = n[0];
      p.recipe.extended = n[1];
      p.recipe.simulated = n[2];
    } else if (a == "--seen") p.seen = args.integer();
    else if (a == "--seen-folder") p.seen_folder = args.value();
    else if (a == "--seen-kinds") p.seen_kinds = args.list();
    else if (a == "--textures") p.textures = args.value();
    else if (a == "--normal-fill") p.recipe.normal_fill = args.real();
    else if (a == "--backbone") p.backbone = args.value();
    else if (a == "--resume") p.resume = args.value();
    else if (a == "--preview") p.preview = args.value();
    else if (a == "--foreground") p.foreground = prn::train::foreground_from_name(args.value());
    else if (a == "--lr") p.lr = args.real();
    else if (a == "--weight-decay") p.weight_decay = args.real();
    else if (a == "--optimizer") p.optimizer = prn::weight_decay_from_name(args.value());
    else if (a == "--lr-schedule") {
      const std::string v = args.value();
      if (v != "constant" && v != "cosine")
        throw prn::Error("option --lr-schedule: expected constant or cosine, got '" + v + "'");
      p.lr_schedule = prn::lr_schedule_from_name(v);
    }
    else if (a == "--holdout") p.holdout = args.real();
    else if (a == "--seed") p.seed = static_cast<uint64_t>(args.non_negative());
    else if (a == "--threads") p.threads = static_cast<int>(args.integer());
    else if (a == "--workers") p.workers = static_cast<int>(args.integer());
    else if (a == "--device") p.device = args.value();
    else if (a == "--precision") {
      p.precision = args.value();
      if (p.precision != "auto" && p.precision != "fp32" && p.precision != "bf16" && p.precision != "fp16")
        throw prn::Error("option --precision: expected fp32, bf16, fp16 or auto, got '" + p.precision + "'");
    }
    else if (a == "--checkpoint-every") p.checkpoint_every = args.integer();
    else if (a == "--stop-after") p.stop_after = args.integer();
    else if (a == "--adapt-steps") p.adapt_steps = args.integer();
    else if (a == "--adapt-lr") p.adapt_lr = args.real();
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
  PRN_CHECK(p.recipe.normal_fill >= 0 && p.recipe.normal_fill <= 1, "--normal-fill: expected a share in [0, 1], got ",
            p.recipe.normal_fill);
  PRN_CHECK(p.workers >= 1, "--workers: expected >= 1, got ", p.workers);
  PRN_CHECK(p.checkpoint_every >= 1, "--checkpoint-every: expected >= 1, got ", p.checkpoint_every);
  PRN_CHECK(p.adapt_steps >= -1, "--adapt-steps: expected >= 0, got ", p.adapt_steps);
  PRN_CHECK(p.adapt_lr > 0, "--adapt-lr: expected > 0, got ", p.adapt_lr);
  PRN_CHECK(!p.attention_blocks || *p.attention_blocks >= 0, "option --attention-blocks: expected >= 0, got ",
            p.attention_blocks.value_or(0));
  PRN_CHECK(!p.head_channels || *p.head_channels >= 1, "option --head-channels: expected >= 1, got ",
            p.head_channels.value_or(0));
  PRN_CHECK(p.backbone.empty() || p.adapt_steps <= 0, "--adapt-steps ", p.adapt_steps,
            ": the adaptation is the fallback of a random encoder; an ImageNet --backbone stays frozen as in the paper");
  if (p.adapt_steps < 0)
    p.adapt_steps = 0;
  if (p.log_dir.empty()) {
    fs::path o(p.out);
    p.log_dir = (o.parent_path() / (o.stem().string() + "-train")).string();
  }
  return p;
}

prn::ModelConfig model_config(const TrainParams &p) {
  // The structure options first, checked on their own; --map-sigma after them, since
  // its range depends on the input size they may change.
  auto config = prn::ModelConfig::by_name(p.config);
  // The changes name the model ("light+channels=16-32-64"): no commas or spaces, since
  // the name lands in CSV and JSON lines.
  std::string changes;
  const auto change = [&](const std::string &field, const std::string &value) {
    changes += "+" + field + "=" + value;
  };
  if (p.input_size) {
    config.input_size = *p.input_size;
    change("input_size", std::to_string(*p.input_size));
  }
  if (!p.channels.empty()) {
    config.channels = {p.channels[0], p.channels[1], p.channels[2]};
    change("channels", join_integers(p.channels, "-"));
  }
  if (!p.patch_divisors.empty()) {
    config.patch_divisors = p.patch_divisors;
    change("patch_divisors", join_integers(p.patch_divisors, "-"));
  }
  if (p.attention_blocks) {
    config.attention_blocks = *p.attention_blocks;
    change("attention_blocks", std::to_string(*p.attention_blocks));
  }
  if (p.head_channels) {
    config.head_channels = *p.head_channels;
    change("head_channels", std::to_string(*p.head_channels));
  }
  if (!changes.empty()) {
    config.name = p.config + changes;
    try {
      config.validate();
    } catch (const prn::Error &e) {
      throw prn::Error(
          std::string("options --input-size, --channels, --patch-divisors, --attention-blocks, --head-channels: ") +
          e.what());
    }
  }
  config.map_sigma = p.map_sigma;
  try {
    config.validate();
  } catch (const prn::Error &e) {
    throw prn::Error(std::string("option --map-sigma: ") + e.what());
  }
  return config;
}

} // namespace prn::train
