// prn-infer: scores images with a model bundle: per image a heatmap overlay PNG
// and one JSON line (score, decision, boxes of the anomalous regions in the
// original image's coordinates) to OUT/results.jsonl and stdout (see docs/eval.md).
//
//   prn-infer --bundle B [--out DIR] [--threshold T] [options] IMAGE_OR_FOLDER...
#include "common/args.h"
#include "common/images.h"
#include "common/main.h"
#include "common/progress.h"
#include "common/regions.h"
#include "common/report.h"

#include "prn/bundle.h"
#include "prn/data/dataset.h"
#include "prn/error.h"
#include "prn/model.h"
#include "prn/postprocess.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct InferParams {
  std::string bundle;
  std::vector<std::string> inputs;
  std::string out = "out/infer";
  std::string device = "cpu";
  std::optional<double> threshold, pixel_threshold; // raw scores; default: the bundle's calibration
  int64_t batch = 8, max_boxes = 100;
  int threads = 0;
  bool overlays = true;
};

void usage(const char *argv0) {
  std::printf(
      "usage: %s --bundle B [options] IMAGE_OR_FOLDER...\n"
      "Scores every image (folders: recursively, any image OpenCV reads); writes OUT/overlays/<name>.png\n"
      "and one JSON line per image to OUT/results.jsonl and stdout.\n"
      "  --bundle B           model bundle (required)\n"
      "  --out DIR            output folder (default out/infer)\n"
      "  --threshold T        RAW image score at or above which an image is anomalous\n"
      "                       (default: the bundle's calibrated image threshold; the normalised\n"
      "                       score is 0.5 there)\n"
      "  --pixel-threshold T  RAW pixel score at or above which a pixel belongs to a region\n"
      "                       (default: the bundle's calibrated pixel threshold)\n"
      "  --max-boxes N        boxes listed per image, highest peak first (default 100)\n"
      "  --batch N            images per forward pass (default 8)\n"
      "  --threads N          intra-op threads (default: LibTorch's choice)\n"
      "  --device D           cpu or cuda (default cpu)\n"
      "  --no-overlays        write no overlay PNGs\n",
      argv0);
}

InferParams parse(int argc, char **argv) {
  InferParams p;
  prn::cli::Args args(argc, argv);
  while (args.next()) {
    const std::string &a = args.option();
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--bundle") {
      p.bundle = args.value();
    } else if (a == "--out") {
      p.out = args.value();
    } else if (a == "--threshold") {
      p.threshold = args.real_in(0, 1);
    } else if (a == "--pixel-threshold") {
      p.pixel_threshold = args.real_in(0, 1);
    } else if (a == "--max-boxes") {
      p.max_boxes = args.at_least(0);
    } else if (a == "--batch") {
      p.batch = args.at_least(1);
    } else if (a == "--threads") {
      p.threads = static_cast<int>(args.at_least(1));
    } else if (a == "--device") {
      p.device = args.value();
    } else if (a == "--no-overlays") {
      p.overlays = false;
    } else if (a.size() > 1 && a[0] == '-') {
      throw prn::Error("unknown option '" + a + "' (see --help)");
    } else {
      p.inputs.push_back(a);
    }
  }
  if (p.bundle.empty())
    throw prn::Error("--bundle B is required (see --help)");
  std::error_code ec;
  if (!fs::is_regular_file(p.bundle, ec))
    throw prn::Error("bundle file '" + p.bundle + "' does not exist (expected a model bundle written by prn-train)");
  if (p.inputs.empty())
    throw prn::Error("no input: give image files or folders after the options (see --help)");
  if (p.device != "cpu" && p.device != "cuda")
    throw prn::Error("option --device: expected cpu or cuda, got '" + p.device + "'");
  if (p.device == "cuda" && !torch::cuda::is_available())
    throw prn::Error("option --device cuda: no CUDA device is available to LibTorch");
  return p;
}

struct Input {
  std::string path; // as found
  std::string name; // overlay file name
};

// Files as given; folders recursively (hidden entries skipped), sorted.
std::vector<Input> list_inputs(const std::vector<std::string> &args) {
  std::vector<Input> out;
  std::set<std::string> names;
  auto add = [&](const fs::path &file, const fs::path &rel) {
    std::string base = rel.parent_path().empty() ? "" : rel.parent_path().generic_string() + "/";
    for (char &ch : base)
      if (ch == '/')
        ch = '_';
    base += file.stem().string();
    std::string name = base;
    for (int k = 2; names.count(name); ++k)
      name = base + "-" + std::to_string(k);
    names.insert(name);
    out.push_back({file.string(), name + ".png"});
  };
  for (const auto &a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(a, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (!n.empty() && n[0] == '.') {
          if (it->is_directory(ec))
            it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec) && prn::data::is_image_file(n))
          found.push_back(it->path());
      }
      PRN_CHECK(!ec, "cannot list input folder '", a, "': ", ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty())
        std::fprintf(stderr, "prn-infer: note: no image file in folder '%s'\n", a.c_str());
      for (const auto &f : found)
        add(f, f.lexically_relative(a));
    } else if (fs::is_regular_file(a, ec)) {
      add(a, fs::path(a).filename());
    } else {
      throw prn::Error("input '" + a + "' does not exist (expected an image file or a folder)");
    }
  }
  PRN_CHECK(!out.empty(), "no image found in the inputs");
  return out;
}

cv::Mat to_mat(const torch::Tensor &map2d) {
  auto t = map2d.contiguous().to(torch::kFloat32).cpu();
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_32FC1, t.data_ptr<float>()).clone();
}

int run(const InferParams &p) {
  if (p.threads > 0)
    torch::set_num_threads(p.threads);
  const torch::Device device(p.device == "cuda" ? torch::kCUDA : torch::kCPU);
  const auto inputs = list_inputs(p.inputs);
  prn::Bundle b = prn::load_bundle(p.bundle);
  const auto &cal = b.calibration;
  const auto &cfg = b.model->config();
  const int64_t S = cfg.input_size;
  const double threshold = p.threshold.value_or(cal.image_threshold);
  const double pixel_threshold = p.pixel_threshold.value_or(cal.pixel_threshold);
  if (!cal.calibrated && !(p.threshold && p.pixel_threshold))
    std::fprintf(stderr, "prn-infer: note: bundle '%s' is not calibrated; default thresholds are used\n",
                 p.bundle.c_str());
  std::fprintf(stderr, "prn-infer: %zu images, model %s (%lldx%lld input), image threshold %.6g, pixel threshold %.6g (raw)\n",
               inputs.size(), b.model_id.c_str(), static_cast<long long>(S), static_cast<long long>(S), threshold,
               pixel_threshold);
  fs::create_directories(p.out);
  if (p.overlays)
    fs::create_directories(fs::path(p.out) / "overlays");
  const std::string results = (fs::path(p.out) / "results.jsonl").string();
  std::ofstream jsonl(results, std::ios::trunc);
  PRN_CHECK(jsonl, "cannot write '", results, "'");
  b.model->to(device);
  b.model->eval();

  int64_t failed = 0, anomalous = 0;
  prn::cli::Progress bar("infer", static_cast<int64_t>(inputs.size()), "img");
  auto emit = [&](const std::string &line) {
    jsonl << line << '\n';
    jsonl.flush();
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
  };
  for (size_t i = 0; i < inputs.size(); i += static_cast<size_t>(p.batch)) {
    const size_t end = std::min(inputs.size(), i + static_cast<size_t>(p.batch));
    std::vector<size_t> ok;
    std::vector<torch::Tensor> batch, originals;
    for (size_t j = i; j < end; ++j) {
      try {
        auto original = prn::data::load_image(inputs[j].path, 0);
        batch.push_back(prn::data::load_image(inputs[j].path, S));
        originals.push_back(original);
        ok.push_back(j);
      } catch (const prn::Error &e) {
        ++failed;
        emit("{\"path\": " + prn::cli::json_string(inputs[j].path) + ", \"error\": " + prn::cli::json_string(e.what()) +
             "}");
      }
    }
    if (!ok.empty()) {
      const auto maps = b.model->anomaly_map(torch::stack(batch).to(device)).cpu();
      const auto scores = prn::image_scores(maps, cfg.top_k);
      for (size_t k = 0; k < ok.size(); ++k) {
        const auto &in = inputs[ok[k]];
        const auto &orig = originals[k];
        const int64_t H = orig.size(1), W = orig.size(2);
        // The heatmap at the original size (bilinear), for the boxes and the overlay.
        auto up = torch::nn::functional::interpolate(
                      maps[static_cast<int64_t>(k)].unsqueeze(0),
                      torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{H, W}).mode(torch::kBilinear).align_corners(false))
                      .squeeze(0)
                      .clamp(0, 1);
        const auto regions = prn::cli::find_regions(to_mat(up[0]), pixel_threshold);
        const double raw = scores[static_cast<int64_t>(k)].item<double>();
        const bool is_anomalous = raw >= threshold;
        anomalous += is_anomalous;
        std::string overlay_path;
        if (p.overlays) {
          cv::Mat img = prn::cli::overlay(orig, up);
          const int thick = std::max(1, static_cast<int>(std::min(H, W) / 200));
          for (const auto &r : regions)
            cv::rectangle(img, cv::Rect(r.x, r.y, r.width, r.height), cv::Scalar(255, 255, 255), thick);
          char cap[96];
          std::snprintf(cap, sizeof cap, "%s %.3f", is_anomalous ? "ANOMALOUS" : "ok", cal.normalise_image(raw));
          const double fs_ = std::max(0.4, std::min(H, W) / 400.0);
          cv::putText(img, cap, {6, static_cast<int>(24 * fs_)}, cv::FONT_HERSHEY_SIMPLEX, 0.6 * fs_,
                      cv::Scalar(0, 0, 0), 3 * thick, cv::LINE_AA);
          cv::putText(img, cap, {6, static_cast<int>(24 * fs_)}, cv::FONT_HERSHEY_SIMPLEX, 0.6 * fs_,
                      is_anomalous ? cv::Scalar(60, 60, 255) : cv::Scalar(120, 255, 120), thick, cv::LINE_AA);
          overlay_path = (fs::path(p.out) / "overlays" / in.name).string();
          prn::cli::write_png(overlay_path, img);
        }
        std::string boxes;
        const size_t listed = std::min(regions.size(), static_cast<size_t>(p.max_boxes));
        for (size_t r = 0; r < listed; ++r) {
          const auto &g = regions[r];
          boxes += std::string(r ? ", " : "") + "{\"x\": " + std::to_string(g.x) + ", \"y\": " + std::to_string(g.y) +
                   ", \"width\": " + std::to_string(g.width) + ", \"height\": " + std::to_string(g.height) +
                   ", \"area\": " + std::to_string(g.area) + ", \"peak\": " + prn::cli::json_number(g.peak) + "}";
        }
        emit("{\"path\": " + prn::cli::json_string(in.path) + ", \"width\": " + std::to_string(W) +
             ", \"height\": " + std::to_string(H) + ", \"image_score\": " + prn::cli::json_number(raw) +
             ", \"image_score_normalised\": " + prn::cli::json_number(cal.normalise_image(raw)) +
             ", \"anomalous\": " + (is_anomalous ? "true" : "false") + ", \"threshold\": " +
             prn::cli::json_number(threshold) + ", \"pixel_threshold\": " + prn::cli::json_number(pixel_threshold) +
             ", \"model_id\": " + prn::cli::json_string(b.model_id) + ", \"overlay\": " +
             (overlay_path.empty() ? std::string("null") : prn::cli::json_string(overlay_path)) +
             ", \"regions\": " + std::to_string(regions.size()) + ", \"boxes\": [" + boxes + "]}");
      }
    }
    bar.update(static_cast<int64_t>(end));
  }
  bar.finish();
  std::fprintf(stderr, "prn-infer: %lld of %zu images anomalous%s; results in %s\n",
               static_cast<long long>(anomalous), inputs.size(),
               failed ? (", " + std::to_string(failed) + " unreadable").c_str() : "", results.c_str());
  return failed ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  return prn::cli::run_main("prn-infer", [&] { return run(parse(argc, argv)); });
}
