// prn-eval: evaluates model bundles on category folders (test split minus the
// bundle's seen anomalies): Image-AUROC, Pixel-AUROC, AUPRO and pixel AP per
// category and their mean, as Markdown, CSV and JSON, with heatmap overlays and
// ROC / PRO curve plots (see docs/eval.md).
//
//   prn-eval --case BUNDLE=FOLDER [--case ...] [--out DIR] [options]
//   prn-eval --bundle BUNDLE --data FOLDER [--out DIR] [options]
#include "common/args.h"
#include "common/main.h"
#include "common/progress.h"
#include "common/report.h"
#include "eval/eval_outputs.h"
#include "eval/test_split.h"

#include "prn/bundle.h"
#include "prn/data/dataset.h"
#include "prn/error.h"
#include "prn/metrics.h"
#include "prn/model.h"
#include "prn/postprocess.h"
#include "prn/state_dict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct EvalCase {
  std::string bundle, data;
};

struct EvalParams {
  std::vector<EvalCase> cases;
  std::string layout = "auto";
  std::string out = "out/eval";
  std::string device = "cpu";
  int64_t overlays = 8;
  int64_t batch = 8;
  int threads = 0;
  double fpr_limit = 0.3;
  bool save_maps = false;
  // Map smoothing sigma replacing the bundle's (prn::smooth_maps); unset: the bundle's.
  std::optional<double> map_sigma;
  // Defect kinds evaluated besides the normal images; empty: all. "unseen":
  // the kinds none of the bundle's seen anomalies come from.
  std::vector<std::string> kinds;
};

void usage(const char *argv0) {
  std::printf(
      "usage: %s --case BUNDLE=FOLDER [--case BUNDLE=FOLDER ...] [options]\n"
      "       %s --bundle BUNDLE --data FOLDER [options]\n"
      "Evaluates each bundle on the test split of its category folder, without the bundle's seen\n"
      "anomalies, and writes OUT/metrics.{md,csv,json} and OUT/<category>/ (curves, overlays, scores).\n"
      "  --case B=F        a bundle file and the category folder it is evaluated on (repeatable)\n"
      "  --bundle B        with --data: one case\n"
      "  --data F          the category folder for --bundle\n"
      "  --layout L        dataset layout: auto, mvtec, btad, ksdd2, dagm (default auto)\n"
      "  --out DIR         output folder (default out/eval)\n"
      "  --overlays N      heatmap overlays written per category (default 8; 0: none)\n"
      "  --batch N         images per forward pass (default 8)\n"
      "  --threads N       intra-op threads (default: LibTorch's choice)\n"
      "  --device D        cpu or cuda (default cpu)\n"
      "  --fpr-limit X     FPR limit of AUPRO, in (0, 1] (default 0.3)\n"
      "  --kinds LIST      evaluate the normal images and these defect kinds only (comma-separated);\n"
      "                    'unseen': the kinds none of the bundle's seen anomalies come from\n"
      "  --map-sigma S     smooth the anomaly maps with a Gaussian of S pixels instead of the bundle's\n"
      "                    own setting (0: none); the metrics and maps.bin use the smoothed maps\n"
      "  --save-maps       also write OUT/<category>/maps.bin, the anomaly maps (N,1,S,S) as int32 ndim,\n"
      "                    int64 dims, float32 data, in the order of scores.csv\n",
      argv0, argv0);
}

EvalParams parse(int argc, char **argv) {
  EvalParams p;
  std::string bundle, data;
  prn::cli::Args args(argc, argv);
  while (args.next()) {
    const std::string &a = args.option();
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--case") {
      const std::string v = args.value();
      const auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
        throw prn::Error("option --case: expected BUNDLE=FOLDER, got '" + v + "'");
      p.cases.push_back({v.substr(0, eq), v.substr(eq + 1)});
    } else if (a == "--bundle") {
      bundle = args.value();
    } else if (a == "--data") {
      data = args.value();
    } else if (a == "--layout") {
      p.layout = args.value();
    } else if (a == "--out") {
      p.out = args.value();
    } else if (a == "--overlays") {
      p.overlays = args.at_least(0);
    } else if (a == "--batch") {
      p.batch = args.at_least(1);
    } else if (a == "--threads") {
      p.threads = static_cast<int>(args.at_least(1));
    } else if (a == "--device") {
      p.device = args.value();
    } else if (a == "--fpr-limit") {
      p.fpr_limit = args.real_in(0, 1, /*open_lo=*/true);
    } else if (a == "--kinds") {
      p.kinds = args.list();
    } else if (a == "--map-sigma") {
      p.map_sigma = args.real();
    } else if (a == "--save-maps") {
      p.save_maps = true;
    } else {
      throw prn::Error("unknown option '" + a + "' (see --help)");
    }
  }
  if (!bundle.empty() || !data.empty()) {
    if (bundle.empty() || data.empty())
      throw prn::Error("--bundle and --data go together: got only " + std::string(bundle.empty() ? "--data" : "--bundle"));
    p.cases.push_back({bundle, data});
  }
  if (p.cases.empty())
    throw prn::Error("nothing to evaluate: give --case BUNDLE=FOLDER or --bundle B --data F (see --help)");
  static const std::set<std::string> layouts{"auto", "mvtec", "btad", "ksdd2", "dagm"};
  if (!layouts.count(p.layout))
    throw prn::Error("option --layout: expected auto, mvtec, btad, ksdd2 or dagm, got '" + p.layout + "'");
  if (p.device != "cpu" && p.device != "cuda")
    throw prn::Error("option --device: expected cpu or cuda, got '" + p.device + "'");
  if (p.device == "cuda" && !torch::cuda::is_available())
    throw prn::Error("option --device cuda: no CUDA device is available to LibTorch");
  for (const auto &c : p.cases) {
    std::error_code ec;
    if (!fs::is_regular_file(c.bundle, ec))
      throw prn::Error("bundle file '" + c.bundle + "' does not exist (expected a model bundle written by prn-train)");
    if (!fs::is_directory(c.data, ec))
      throw prn::Error("data folder '" + c.data + "' does not exist (expected a category folder, e.g. mvtec/bottle)");
  }
  return p;
}

// A metric, or NaN with a note when it is undefined for this split.
double metric(const char *name, const std::function<double()> &f) {
  try {
    return f();
  } catch (const prn::Error &e) {
    std::printf("  %s: n/a (%s)\n", name, e.what());
    return std::nan("");
  }
}

prn::cli::MetricRow evaluate(const EvalParams &p, const EvalCase &c, std::set<std::string> &dirs,
                             const torch::Device &device) {
  prn::Bundle b = prn::load_bundle(c.bundle);
  if (p.map_sigma) {
    try {
      b.model->set_map_sigma(*p.map_sigma);
    } catch (const prn::Error &e) {
      throw prn::Error("option --map-sigma, bundle '" + c.bundle + "': " + e.what());
    }
  }
  auto listing = prn::data::read_category(c.data, p.layout);
  // Output folder: the category name, made unique over the cases.
  std::string dir_name = prn::eval::safe_name(listing.category);
  for (int k = 2; dirs.count(dir_name); ++k)
    dir_name = prn::eval::safe_name(listing.category) + "-" + std::to_string(k);
  dirs.insert(dir_name);
  const auto &cfg = b.model->config();
  const int64_t S = cfg.input_size;
  std::printf("\n== %s: bundle %s (model %s, category '%s'), data %s (%s layout)\n", listing.category.c_str(),
              c.bundle.c_str(), b.model_id.c_str(), b.category.c_str(), c.data.c_str(), listing.layout.c_str());
  if (!b.category.empty() && b.category != listing.category)
    std::printf("  note: the bundle was trained on category '%s', the folder is '%s'\n", b.category.c_str(),
                listing.category.c_str());
  // Test split minus the bundle's seen anomalies, of the kinds asked for.
  const prn::eval::TestSplit split = prn::eval::select_test_split(listing, b.seen_anomalies, p.kinds, c.data);
  const auto &samples = split.samples;
  std::printf("  test split: %zu images; removed %lld seen anomal%s of the bundle -> %zu evaluated\n",
              listing.test.size(), static_cast<long long>(split.seen_removed), split.seen_removed == 1 ? "y" : "ies",
              samples.size());
  if (!split.kinds.empty()) {
    std::string names;
    for (const auto &k : split.kinds)
      names += (names.empty() ? "" : ",") + k;
    std::printf("  kinds evaluated: good,%s (%lld anomalous images of other kinds left out)\n", names.c_str(),
                static_cast<long long>(split.other_kinds));
  }
  if (split.seen_elsewhere > 0)
    std::printf("  note: %zu of the bundle's %zu seen anomalies are not in this test split\n", split.seen_elsewhere,
                split.seen_listed);

  // Batched inference.
  const int64_t N = static_cast<int64_t>(samples.size());
  auto maps = torch::empty({N, 1, S, S}), masks = torch::empty({N, 1, S, S}), labels = torch::empty({N});
  b.model->to(device);
  b.model->eval();
  prn::cli::Progress bar("eval " + listing.category, N, "img");
  for (int64_t i = 0; i < N; i += p.batch) {
    const int64_t n = std::min(p.batch, N - i);
    std::vector<torch::Tensor> imgs;
    for (int64_t j = i; j < i + n; ++j) {
      const auto &s = samples[static_cast<size_t>(j)];
      imgs.push_back(prn::data::load_image(s.image_path, S));
      masks[j] = prn::data::load_mask(s.mask_path, S);
      labels[j] = s.anomalous ? 1.0 : 0.0;
    }
    maps.narrow(0, i, n).copy_(b.model->anomaly_map(torch::stack(imgs).to(device)).cpu());
    bar.update(i + n);
  }
  bar.finish();
  const auto scores = prn::image_scores(maps, cfg.top_k);

  prn::cli::MetricRow r;
  r.category = listing.category;
  r.bundle = c.bundle;
  r.model_id = b.model_id;
  r.data = c.data;
  r.layout = listing.layout;
  r.evaluated = N;
  r.anomalous = static_cast<int64_t>(labels.sum().item<double>());
  r.normal = N - r.anomalous;
  r.seen_removed = split.seen_removed;
  r.image_auroc = metric("Image-AUROC", [&] { return prn::auroc(scores, labels); });
  r.pixel_auroc = metric("Pixel-AUROC", [&] { return prn::auroc(maps, masks); });
  r.pixel_ap = metric("Pixel-AP", [&] { return prn::average_precision(maps, masks); });
  prn::ProResult pro;
  r.aupro = metric("AUPRO", [&] {
    pro = prn::aupro(maps, masks, p.fpr_limit);
    return pro.aupro;
  });

  // Outputs of the category.
  const fs::path dir = fs::path(p.out) / dir_name;
  fs::create_directories(dir);
  const prn::eval::ScoredSplit scored{split, maps, masks, labels, scores};
  prn::eval::write_scores_csv((dir / "scores.csv").string(), scored);
  if (p.save_maps)
    prn::eval::write_tensor_bin((dir / "maps.bin").string(), maps);
  prn::eval::write_curves(dir.string(), listing.category, scored, r.image_auroc, r.pixel_auroc, r.aupro, pro.curve,
                          p.fpr_limit);
  prn::eval::write_overlays(dir.string(), scored, p.overlays, S);
  std::printf("  Image-AUROC %.4f  Pixel-AUROC %.4f  AUPRO %.4f  Pixel-AP %.4f  -> %s\n", r.image_auroc,
              r.pixel_auroc, r.aupro, r.pixel_ap, dir.string().c_str());
  return r;
}

int run(const EvalParams &p) {
  if (p.threads > 0)
    torch::set_num_threads(p.threads);
  const torch::Device device(p.device == "cuda" ? torch::kCUDA : torch::kCPU);
  fs::create_directories(p.out);
  std::vector<prn::cli::MetricRow> rows;
  std::set<std::string> dirs;
  for (const auto &c : p.cases)
    rows.push_back(evaluate(p, c, dirs, device));
  prn::write_file_atomic(p.out + "/metrics.md", prn::cli::metrics_markdown(rows));
  prn::write_file_atomic(p.out + "/metrics.csv", prn::cli::metrics_csv(rows));
  prn::write_file_atomic(p.out + "/metrics.json", prn::cli::metrics_json(rows, p.fpr_limit));
  std::printf("\n%s\nwrote %s/metrics.md, metrics.csv, metrics.json\n", prn::cli::metrics_markdown(rows).c_str(),
              p.out.c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return prn::cli::run_main("prn-eval", [&] { return run(parse(argc, argv)); });
}
