// prn-bench-forward: the C++ side of prn-bench and of the Python parity test.
// One subcommand per call; results go to stdout as one JSON object.
//
//   prn-bench-forward make-bundle --config light|paper --out B [--seed S] [--normal N]
//       a randomly initialised model whose prototypes are fitted (k-means) on N
//       generated normal textures (default 20, so K = 2), saved with prn::save_bundle
//   prn-bench-forward info --bundle B
//       config, prototypes per scale, FLOPs per tile (prn::count_flops)
//   prn-bench-forward forward --bundle B --input X.f32 --output Y.f32 [--precision fp32|bf16]
//       anomaly maps (N,1,S,S) of the raw little-endian float32 tiles (N,3,S,S) in X
//   prn-bench-forward tiles --size S --count N --out X.f32 [--seed S]
//       generated textures (SyntheticTextures), every second tile with a defect
//   prn-bench-forward time --bundle B --input X.f32 [--batch 8] [--repeats 3] [--precision P]
//                     [--output Y.f32]
//       the input's tiles in batches, R times after one warm-up batch; the fastest
//       pass; --output keeps the maps of the last pass
//   prn-bench-forward conv [--repeats 3] [--precision P]
//       the plain large 3x3 conv (8x256x64x64 -> 256), as prn-bench-core measures it
//   prn-bench-forward accuracy --bundle B [--images 16] [--seed S]
//       bf16 against fp32 on generated textures, half normal, half with defects:
//       max heatmap difference and image-score AUROC of both
//
// Every subcommand takes --threads N (intra-op threads; default LibTorch's).
#include "bench_util.h"
#include "prn/bundle.h"
#include "prn/flops.h"
#include "prn/metrics.h"
#include "prn/mixed_precision.h"
#include "prn/postprocess.h"
#include "prn/synthetic.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

namespace {

using prn::bench::seconds_since;

struct Args {
  std::string cmd;
  std::map<std::string, std::string> opt;

  std::string get(const std::string &key, const std::string &fallback = "") const {
    auto it = opt.find(key);
    if (it != opt.end())
      return it->second;
    if (fallback.empty())
      throw std::runtime_error(cmd + ": missing --" + key);
    return fallback;
  }
  // A non-negative integer option.
  int64_t num(const std::string &key, int64_t fallback) const {
    return prn::bench::parse_int("--" + key + " of " + cmd, get(key, std::to_string(fallback)), 0);
  }
};

Args parse(int argc, char **argv) {
  if (argc < 2)
    throw std::runtime_error("expected a subcommand: make-bundle, info, tiles, forward, time, conv or accuracy");
  Args a;
  a.cmd = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc)
      throw std::runtime_error(a.cmd + ": expected '--option value' pairs, got '" + k + "'");
    a.opt[k.substr(2)] = argv[++i];
  }
  return a;
}

std::string json_str(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

torch::Tensor read_tiles(const std::string &path, int64_t S) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    throw std::runtime_error("cannot open input tiles '" + path + "'");
  const int64_t bytes = in.tellg();
  const int64_t tile_bytes = 3 * S * S * 4;
  if (bytes <= 0 || bytes % tile_bytes != 0)
    throw std::runtime_error("input tiles '" + path + "': " + std::to_string(bytes) +
                             " bytes is not a whole number of float32 3x" + std::to_string(S) + "x" +
                             std::to_string(S) + " tiles (" + std::to_string(tile_bytes) + " bytes each)");
  auto x = torch::empty({bytes / tile_bytes, 3, S, S}, torch::kFloat32);
  in.seekg(0);
  in.read(reinterpret_cast<char *>(x.data_ptr<float>()), bytes);
  if (!in)
    throw std::runtime_error("input tiles '" + path + "': short read");
  return x;
}

void write_tensor(const std::string &path, const torch::Tensor &t) {
  auto c = t.to(torch::kFloat32).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(c.data_ptr<float>()), c.numel() * 4);
  if (!out)
    throw std::runtime_error("cannot write '" + path + "'");
}

prn::Bundle load(const Args &a) {
  prn::Bundle b = prn::load_bundle(a.get("bundle"));
  b.model->eval();
  return b;
}

prn::Precision precision(const Args &a) { return prn::precision_from_name(a.get("precision", "fp32")); }

torch::Tensor maps(prn::PrnModelImpl &model, const torch::Tensor &x, prn::Precision p) {
  torch::InferenceMode guard;
  prn::AutocastGuard autocast(torch::kCPU, p);
  return torch::sigmoid(model.forward(x).to(torch::kFloat32));
}

// Fastest of `repeats` passes over all tiles in batches, after one warm-up batch.
double time_passes(const torch::Tensor &tiles, int64_t batch, int64_t repeats, const std::function<void(const torch::Tensor &)> &fn) {
  fn(tiles.narrow(0, 0, std::min(batch, tiles.size(0))));
  double best = 1e30;
  for (int64_t r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < tiles.size(0); i += batch)
      fn(tiles.narrow(0, i, std::min(batch, tiles.size(0) - i)));
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

int make_bundle(const Args &a) {
  const int64_t seed = a.num("seed", 1), normal = a.num("normal", 20);
  prn::Bundle b;
  b.model = prn::PrnModel(prn::ModelConfig::by_name(a.get("config")), static_cast<uint64_t>(seed));
  const int64_t S = b.model->config().input_size;
  prn::SyntheticTextures gen(S, static_cast<uint64_t>(seed));
  b.model->fit_prototypes(gen.normal_images(normal), static_cast<uint64_t>(seed));
  b.category = "bench";
  b.provenance["producer"] = "prn-bench-forward make-bundle (random weights)";
  prn::save_bundle(a.get("out"), b);
  std::printf("{\"bundle\": %s, \"config\": %s, \"model_id\": %s}\n", json_str(a.get("out")).c_str(),
              json_str(b.model->config().name).c_str(), json_str(b.model_id).c_str());
  return 0;
}

int info(const Args &a) {
  prn::Bundle b = load(a);
  const auto &c = b.model->config();
  const int64_t k = b.model->named_buffers()["prototypes0"].size(0);
  const auto cost = prn::count_flops(c, k);
  std::printf("{\"config\": %s, \"input_size\": %lld, \"prototypes\": %lld, \"flops_per_tile\": %.0f, "
              "\"conv_flops_per_tile\": %.0f, \"top_k\": %lld, \"model_id\": %s}\n",
              json_str(c.name).c_str(), static_cast<long long>(c.input_size), static_cast<long long>(k),
              cost.total_flops, cost.conv_flops, static_cast<long long>(c.top_k), json_str(b.model_id).c_str());
  return 0;
}

int forward(const Args &a) {
  prn::Bundle b = load(a);
  const auto x = read_tiles(a.get("input"), b.model->config().input_size);
  const auto y = maps(*b.model, x, precision(a));
  write_tensor(a.get("output"), y);
  std::printf("{\"tiles\": %lld, \"output\": %s}\n", static_cast<long long>(x.size(0)),
              json_str(a.get("output")).c_str());
  return 0;
}

int time_forward(const Args &a) {
  prn::Bundle b = load(a);
  const auto x = read_tiles(a.get("input"), b.model->config().input_size);
  const int64_t batch = a.num("batch", 8), repeats = a.num("repeats", 3);
  if (batch < 1 || repeats < 1)
    throw std::runtime_error("time: expected --batch >= 1 and --repeats >= 1");
  const auto p = precision(a);
  std::vector<torch::Tensor> out;
  const double s = time_passes(x, batch, repeats, [&](const torch::Tensor &t) {
    out.push_back(maps(*b.model, t, p));
    if (out.size() > static_cast<size_t>((x.size(0) + batch - 1) / batch))
      out.erase(out.begin());
  });
  if (a.opt.count("output"))
    write_tensor(a.get("output"), torch::cat(out, 0));
  std::printf("{\"tiles\": %lld, \"batch\": %lld, \"seconds\": %.6f, \"tiles_per_s\": %.4f, \"threads\": %d, "
              "\"precision\": %s}\n",
              static_cast<long long>(x.size(0)), static_cast<long long>(batch), s, x.size(0) / s,
              at::get_num_threads(), json_str(prn::precision_name(p)).c_str());
  return 0;
}

int tiles(const Args &a) {
  const int64_t S = a.num("size", 0), n = a.num("count", 0);
  if (S < 16 || n < 1)
    throw std::runtime_error("tiles: expected --size >= 16 and --count >= 1");
  prn::SyntheticTextures gen(S, static_cast<uint64_t>(a.num("seed", 3)));
  const prn::DefectKind kinds[3] = {prn::DefectKind::Scratch, prn::DefectKind::Spot, prn::DefectKind::Hole};
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < n; ++i)
    parts.push_back(i % 2 ? gen.defective_images(1, kinds[(i / 2) % 3]).images : gen.normal_images(1));
  write_tensor(a.get("out"), torch::cat(parts, 0));
  std::printf("{\"tiles\": %lld, \"size\": %lld, \"out\": %s}\n", static_cast<long long>(n),
              static_cast<long long>(S), json_str(a.get("out")).c_str());
  return 0;
}

int conv(const Args &a) {
  const int64_t B = 8, C = 256, H = 64, repeats = a.num("repeats", 3);
  const auto p = precision(a);
  const auto dtype = p == prn::Precision::BFloat16 ? torch::kBFloat16 : torch::kFloat32;
  torch::InferenceMode guard;
  auto x = torch::rand({B, C, H, H}).to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w = torch::rand({C, C, 3, 3}).to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
  const double s = time_passes(x, B, repeats, [&](const torch::Tensor &t) { torch::conv2d(t, w, {}, 1, 1); });
  std::printf("{\"shape\": \"8x256x64x64 -> 256, 3x3\", \"gflops\": %.3f, \"threads\": %d, \"precision\": %s}\n",
              2.0 * C * C * 9 * H * H * B / s / 1e9, at::get_num_threads(), json_str(prn::precision_name(p)).c_str());
  return 0;
}

int accuracy(const Args &a) {
  prn::Bundle b = load(a);
  const int64_t n = a.num("images", 16), S = b.model->config().input_size;
  if (n < 6)
    throw std::runtime_error("accuracy: expected --images >= 6, got " + std::to_string(n));
  prn::SyntheticTextures gen(S, static_cast<uint64_t>(a.num("seed", 7)));
  const int64_t bad = n / 2, each = (bad + 2) / 3;
  std::vector<torch::Tensor> parts{gen.normal_images(n - bad)};
  for (auto kind : {prn::DefectKind::Scratch, prn::DefectKind::Spot, prn::DefectKind::Hole})
    parts.push_back(gen.defective_images(each, kind).images);
  const auto x = torch::cat(parts, 0).narrow(0, 0, n);
  auto labels = torch::zeros({n}, torch::kFloat32);
  labels.narrow(0, n - bad, bad).fill_(1);
  torch::Tensor ref, low;
  for (int64_t i = 0; i < n; i += 8) {
    auto t = x.narrow(0, i, std::min<int64_t>(8, n - i));
    auto r = maps(*b.model, t, prn::Precision::Float32), l = maps(*b.model, t, prn::Precision::BFloat16);
    ref = ref.defined() ? torch::cat({ref, r}) : r;
    low = low.defined() ? torch::cat({low, l}) : l;
  }
  const int64_t k = b.model->config().top_k;
  const auto s_ref = prn::image_scores(ref, k), s_low = prn::image_scores(low, k);
  std::printf("{\"images\": %lld, \"defective\": %lld, \"max_abs_heatmap_diff\": %.6g, \"mean_abs_heatmap_diff\": "
              "%.6g, \"max_abs_score_diff\": %.6g, \"auroc_fp32\": %.6f, \"auroc_bf16\": %.6f}\n",
              static_cast<long long>(n), static_cast<long long>(bad), (ref - low).abs().max().item<double>(),
              (ref - low).abs().mean().item<double>(), (s_ref - s_low).abs().max().item<double>(),
              prn::auroc(s_ref, labels), prn::auroc(s_low, labels));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc >= 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    std::printf("usage: %s SUBCOMMAND [--option value ...] [--threads N]\n"
                "  make-bundle --config light|paper --out B [--seed S] [--normal N]\n"
                "  info --bundle B\n"
                "  forward --bundle B --input X.f32 --output Y.f32 [--precision fp32|bf16]\n"
                "  tiles --size S --count N --out X.f32 [--seed S]\n"
                "  time --bundle B --input X.f32 [--batch 8] [--repeats 3] [--precision P] [--output Y.f32]\n"
                "  conv [--repeats 3] [--precision P]\n"
                "  accuracy --bundle B [--images 16] [--seed S]\n"
                "The C++ side of prn-bench (bench/prn_bench_forward.cpp says what each prints).\n",
                argv[0]);
    return 0;
  }
  try {
    const Args a = parse(argc, argv);
    if (a.opt.count("threads"))
      torch::set_num_threads(static_cast<int>(a.num("threads", 0)));
    if (a.cmd == "make-bundle")
      return make_bundle(a);
    if (a.cmd == "info")
      return info(a);
    if (a.cmd == "forward")
      return forward(a);
    if (a.cmd == "tiles")
      return tiles(a);
    if (a.cmd == "time")
      return time_forward(a);
    if (a.cmd == "conv")
      return conv(a);
    if (a.cmd == "accuracy")
      return accuracy(a);
    throw std::runtime_error("unknown subcommand '" + a.cmd + "': expected make-bundle, info, tiles, forward, time, conv or accuracy");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "prn-bench-forward: %s\n", e.what());
    return 1;
  }
}
