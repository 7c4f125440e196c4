// prn-pretrain-backbone: trains the ResNet-18 encoder (stem, layers 1-3) to tell
// textures apart and writes it as a torchvision-style resnet18 state dict that
// prn-train --backbone takes: a stand-in for ImageNet weights where
// torchvision's resnet18 file cannot be had (docs/training.md, "Without
// ImageNet weights").
//
//   prn-pretrain-backbone --out FILE [--textures PATH]... [--exclude TEXT]...
//                         [--steps N] [--batch N] [--crop N] [--lr X] [--seed S] [--precision P]
//                         [--threads N]
#include "common/args.h"
#include "common/main.h"
#include "common/progress.h"
#include "prn/data/linescan.h"
#include "prn/data/texture_crops.h"
#include "prn/encoder_pretraining.h"
#include "prn/error.h"
#include "prn/mixed_precision.h"
#include "prn/state_dict.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct PretrainParams {
  std::string out;
  std::vector<std::string> textures; // files or folders; empty: the system's textures
  std::vector<std::string> exclude;  // leave out files whose path contains any of these
  prn::EncoderPretrainingOptions options;
  prn::data::TextureCropOptions crops;
  int64_t batch = 64;
  int threads = 0;
  std::string precision = "auto"; // auto: bf16 where it runs a convolution faster (prn::auto_cpu_precision)
};

void usage(const char *argv0) {
  std::printf("usage: %s --out FILE [options]\n"
              "Trains the ResNet-18 encoder (stem and layers 1-3, what PRN uses) to classify crops of textures,\n"
              "one class per texture file, and writes it to FILE as a torchvision-style resnet18 state dict\n"
              "for prn-train --backbone: a stand-in for torchvision's ImageNet file where it cannot be had.\n"
              "  --out FILE        the weights file to write (atomically; required)\n"
              "  --textures PATH   a texture file, or a folder searched recursively (.png .jpg .jpeg .bmp .tif,\n"
              "                    GIMP .pat); repeatable (default: GIMP's patterns and python3-skimage's\n"
              "                    brick, grass and gravel, as prn-make-linescan --list-textures prints)\n"
              "  --exclude TEXT    leave out the texture files whose path contains TEXT; repeatable\n"
              "                    (e.g. the texture of the material under inspection)\n"
              "  --steps N         training steps (default %lld)\n"
              "  --batch N         crops per step (default %lld)\n"
              "  --crop N          crop side in pixels (default %lld)\n"
              "  --lr X            AdamW learning rate, cosine decay to 0 (default %g)\n"
              "  --seed S          seed of the crops and the classifier (default 0)\n"
              "  --precision P     auto | fp32 | bf16: bf16 runs the forward pass under autocast (weights,\n"
              "                    gradients and loss stay float32); auto takes bf16 where a 3x3 convolution\n"
              "                    timed at start runs at least 1.2x as fast in bf16 as in fp32, else fp32\n"
              "                    (bf16 pretrained 1.9x faster with AMX, 1.3x slower on an Intel Xeon with\n"
              "                    AVX-512 BF16 but no AMX: docs/training.md) (default auto)\n"
              "  --threads N       intra-op threads (default: LibTorch's)\n",
              argv0, static_cast<long long>(prn::EncoderPretrainingOptions{}.steps),
              static_cast<long long>(PretrainParams{}.batch),
              static_cast<long long>(prn::data::TextureCropOptions{}.crop), prn::EncoderPretrainingOptions{}.lr);
}

PretrainParams parse(int argc, char **argv) {
  PretrainParams p;
  prn::cli::Args args(argc, argv);
  while (args.next()) {
    const std::string &a = args.option();
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--out") {
      p.out = args.value();
    } else if (a == "--textures") {
      p.textures.push_back(args.value());
    } else if (a == "--exclude") {
      p.exclude.push_back(args.value());
      if (p.exclude.back().empty())
        throw prn::Error("option --exclude: expected a non-empty text");
    } else if (a == "--steps") {
      p.options.steps = args.at_least(1);
    } else if (a == "--batch") {
      p.batch = args.at_least(2);
    } else if (a == "--crop") {
      p.crops.crop = args.at_least(32);
    } else if (a == "--lr") {
      p.options.lr = args.real_in(0, 1, /*open_lo=*/true);
    } else if (a == "--seed") {
      p.options.seed = static_cast<uint64_t>(args.non_negative());
    } else if (a == "--precision") {
      p.precision = args.value();
      if (p.precision != "auto" && p.precision != "fp32" && p.precision != "bf16")
        throw prn::Error("option --precision: expected auto, fp32 or bf16, got '" + p.precision + "'");
    } else if (a == "--threads") {
      p.threads = static_cast<int>(args.at_least(1));
    } else {
      throw prn::Error("unknown option '" + a + "' (see --help)");
    }
  }
  if (p.out.empty())
    throw prn::Error("--out FILE is required (see --help)");
  return p;
}

// The texture files: --textures (files, folders walked recursively) or the system's, minus --exclude.
std::vector<std::string> texture_files(const PretrainParams &p) {
  std::vector<std::string> files;
  if (p.textures.empty()) {
    files = prn::data::find_system_textures();
    if (files.empty())
      throw prn::Error("no --textures given and no texture found on this system (GIMP's patterns in "
                       "/usr/share/gimp/2.0/patterns: install gimp-data, or pass --textures PATH)");
  }
  for (const auto &t : p.textures) {
    std::error_code ec;
    if (fs::is_regular_file(t, ec)) {
      files.push_back(t);
    } else if (fs::is_directory(t, ec)) {
      const auto found = prn::data::list_texture_files(t); // names an empty folder
      files.insert(files.end(), found.begin(), found.end());
    } else {
      throw prn::Error("--textures '" + t + "': no such file or folder");
    }
  }
  std::vector<std::string> kept;
  for (const auto &f : files)
    if (std::none_of(p.exclude.begin(), p.exclude.end(),
                     [&](const std::string &x) { return f.find(x) != std::string::npos; }))
      kept.push_back(f);
  if (kept.size() < 2)
    throw prn::Error("pretraining needs at least 2 texture files (one class each), " + std::to_string(kept.size()) +
                     " left of " + std::to_string(files.size()) + " after --exclude");
  return kept;
}

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

int run(int argc, char **argv) {
  PretrainParams p = parse(argc, argv);
  if (p.threads > 0)
    torch::set_num_threads(p.threads); // before the auto probe: it times with these threads
  p.options.precision = p.precision == "bf16" ? prn::Precision::BFloat16 : prn::Precision::Float32;
  if (p.precision == "auto") {
    const prn::AutoPrecision a = prn::auto_cpu_precision();
    p.options.precision = a.precision;
    std::printf("prn-pretrain-backbone: precision auto: %s\n", prn::auto_precision_reason(a.precision, a.speedup).c_str());
  }
  const auto files = texture_files(p);
  std::vector<torch::Tensor> textures;
  textures.reserve(files.size());
  for (const auto &f : files)
    textures.push_back(prn::data::load_texture(f)); // names the file when it cannot be read
  const prn::data::TextureCrops crops(std::move(textures), p.crops, p.options.seed);
  std::printf("prn-pretrain-backbone: %lld textures (classes), %lld steps of %lld crops of %lldx%lld, lr %g, "
              "seed %llu, %s, %d threads\n",
              static_cast<long long>(crops.classes()), static_cast<long long>(p.options.steps),
              static_cast<long long>(p.batch), static_cast<long long>(p.crops.crop),
              static_cast<long long>(p.crops.crop), p.options.lr, static_cast<unsigned long long>(p.options.seed),
              prn::precision_name(p.options.precision), torch::get_num_threads());
  std::fflush(stdout);

  prn::Encoder encoder;
  encoder->reset_parameters(p.options.seed);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  prn::cli::Progress progress("pretraining", p.options.steps, "step");
  double loss = 0, accuracy = 0; // running averages for the bar
  auto status = [&] {
    char text[96];
    std::snprintf(text, sizeof text, "loss %.3f, accuracy %.2f", loss, accuracy);
    return std::string(text);
  };
  const auto start = std::chrono::steady_clock::now();
  const int64_t done = prn::pretrain_encoder(
      *encoder, crops.classes(), [&](int64_t i) { return crops.batch(i, p.batch); }, p.options,
      [&](int64_t step, const prn::PretrainingStep &s) {
        const double a = step == 1 ? 1.0 : 0.05;
        loss += a * (s.loss - loss);
        accuracy += a * (s.accuracy - accuracy);
        progress.update(step, status());
        return !g_stop;
      });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (g_stop) {
    progress.stop("interrupted");
    std::fprintf(stderr, "prn-pretrain-backbone: interrupted after %lld of %lld steps; nothing was written\n",
                 static_cast<long long>(done), static_cast<long long>(p.options.steps));
    return 130;
  }
  progress.finish(status());
  prn::write_state_dict(p.out, prn::encoder_state_dict(*encoder));
  std::printf("prn-pretrain-backbone: wrote %s (%lld steps in %.0f s, %.0f crops/s; final running accuracy %.2f over "
              "%lld classes); use it with prn-train --backbone %s\n",
              p.out.c_str(), static_cast<long long>(done), secs, static_cast<double>(done * p.batch) / secs, accuracy,
              static_cast<long long>(crops.classes()), p.out.c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return prn::cli::run_main("prn-pretrain-backbone", [&] { return run(argc, argv); });
}
