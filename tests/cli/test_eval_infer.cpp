// prn-eval and prn-infer, run as programs on a tiny bundle and a tiny MVTec-layout
// dataset written here: exit codes, output files, metrics equal to the core's
// metrics on the same maps, the seen-anomaly protocol, JSON lines and boxes, and
// errors on bad input.
#include "test_util.h"

#include "prn/bundle.h"
#include "prn/data/dataset.h"
#include "prn/metrics.h"
#include "prn/model.h"
#include "prn/postprocess.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

namespace fs = std::filesystem;
using prn::test::TempDir;

namespace {
constexpr int64_t S = 64;
constexpr int64_t kTrainSteps = 80; // on dark discs: enough to find a planted one

std::string env(const char *name) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    throw std::runtime_error(std::string("environment variable ") + name + " is not set (run through meson test)");
  return v;
}

std::string read_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int rc = -1;
  std::string out, err;
};

// Runs a command line; stdout and stderr captured through files.
Result run(const std::string &cmd, const TempDir &tmp) {
  static int n = 0;
  const std::string o = tmp.file("cmd" + std::to_string(++n) + ".out"), e = tmp.file("cmd" + std::to_string(n) + ".err");
  const int status = std::system((cmd + " >'" + o + "' 2>'" + e + "'").c_str());
  Result r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(o);
  r.err = read_text(e);
  return r;
}

// A JSON or JSON-lines file as flat key -> JSON value (strings keep their quotes).
std::map<std::string, std::string> read_json(const std::string &path) {
  const std::string cmd = "'" + env("PRN_TEST_PYTHON") + "' '" + env("PRN_JSON_FLATTEN") + "' '" + path + "'";
  std::unique_ptr<FILE, int (*)(FILE *)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::map<std::string, std::string> m;
  char line[4096];
  while (pipe && fgets(line, sizeof line, pipe.get())) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n')
      s.pop_back();
    const auto tab = s.find('\t');
    if (tab != std::string::npos)
      m[s.substr(0, tab)] = s.substr(tab + 1);
  }
  const int status = pclose(pipe.release());
  if (status != 0)
    throw std::runtime_error("invalid JSON in " + path);
  return m;
}

double num(const std::map<std::string, std::string> &m, const std::string &key) {
  auto it = m.find(key);
  if (it == m.end())
    throw std::runtime_error("missing JSON key " + key);
  return std::stod(it->second);
}

std::string str(const std::map<std::string, std::string> &m, const std::string &key) {
  auto it = m.find(key);
  if (it == m.end() || it->second.size() < 2 || it->second.front() != '"')
    throw std::runtime_error("missing JSON string " + key);
  return it->second.substr(1, it->second.size() - 2);
}

void write_rgb(const std::string &path, const torch::Tensor &rgb) {
  fs::create_directories(fs::path(path).parent_path());
  auto t = (rgb.clamp(0, 1) * 255).round().to(torch::kUInt8).flip(0).permute({1, 2, 0}).contiguous();
  cv::Mat m(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3, t.data_ptr<uint8_t>());
  ASSERT_TRUE(cv::imwrite(path, m)) << path;
}

void write_mask(const std::string &path, const torch::Tensor &mask) {
  fs::create_directories(fs::path(path).parent_path());
  auto t = ((mask.squeeze(0) > 0.5).to(torch::kUInt8) * 255).contiguous();
  cv::Mat m(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC1, t.data_ptr<uint8_t>());
  ASSERT_TRUE(cv::imwrite(path, m)) << path;
}

bool decodes(const std::string &path, cv::Size *size = nullptr) {
  cv::Mat m = cv::imread(path);
  if (size)
    *size = m.size();
  return !m.empty() && m.cols > 0 && m.rows > 0;
}

// High-contrast dark discs (radius 3..7 px) planted on normal textures.
prn::SyntheticBatch dark_discs(prn::SyntheticTextures &tex, int64_t n, at::Generator &gen) {
  auto images = tex.normal_images(n);
  auto yy = torch::arange(S).view({S, 1}).to(torch::kFloat32), xx = torch::arange(S).view({1, S}).to(torch::kFloat32);
  std::vector<torch::Tensor> masks;
  for (int64_t i = 0; i < n; ++i) {
    auto u = at::rand({3}, gen);
    const double cy = (0.2 + 0.6 * u[0].item<double>()) * S, cx = (0.2 + 0.6 * u[1].item<double>()) * S;
    const double r = 3 + 4 * u[2].item<double>();
    masks.push_back(((yy - cy).pow(2) + (xx - cx).pow(2) <= r * r).to(torch::kFloat32).unsqueeze(0));
  }
  auto m = torch::stack(masks);
  return {images * (1 - m) + 0.05 * images * m, m};
}

// Shared across the tests: a bundle trained a few steps on dark discs, and a
// dataset: train/good 4, test/good 4, test/hole 3, test/spot 3 (one hole seen).
class EvalInfer : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    torch::manual_seed(0);
    tmp_ = new TempDir();
    auto cfg = prn::ModelConfig::light();
    cfg.input_size = S;
    cfg.num_prototypes = 1;
    cfg.top_k = 20;
    prn::PrnModel model(cfg, 7);
    prn::SyntheticTextures tex(S, 7);
    model->fit_prototypes(tex.normal_images(4), 7, 4);
    auto opt = prn::make_optimizer(*model, 1e-3);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    for (int64_t step = 0; step < kTrainSteps; ++step) {
      auto bad = dark_discs(tex, 4, gen);
      prn::train_step(*model, *opt, torch::cat({tex.normal_images(4), bad.images}),
                      torch::cat({torch::zeros({4, 1, S, S}), bad.masks}));
    }
    prn::recalibrate_batchnorm(
        *model, [&] { return torch::cat({tex.normal_images(4), dark_discs(tex, 4, gen).images}); }, 8);
    prn::SyntheticTextures held(S, 99);
    auto normal_maps = model->anomaly_map(held.normal_images(4));
    prn::Bundle b;
    b.model = model;
    b.category = "tex";
    b.calibration = prn::calibrate(prn::image_scores(normal_maps, cfg.top_k), normal_maps);
    b.seen_anomalies = {"test/hole/000.png"};
    bundle_ = tmp_->file("tex.prn");
    prn::save_bundle(bundle_, b);

    data_ = tmp_->file("tex");
    prn::SyntheticTextures d(S, 11);
    auto name = [](int i) { return "00" + std::to_string(i); };
    auto train = d.normal_images(4), good = d.normal_images(4);
    for (int i = 0; i < 4; ++i) {
      write_rgb(data_ + "/train/good/" + name(i) + ".png", train[i]);
      write_rgb(data_ + "/test/good/" + name(i) + ".png", good[i]);
    }
    for (auto kind : {prn::DefectKind::Hole, prn::DefectKind::Spot}) {
      const std::string k = prn::to_string(kind);
      auto bad = d.defective_images(3, kind);
      for (int i = 0; i < 3; ++i) {
        write_rgb(data_ + "/test/" + k + "/" + name(i) + ".png", bad.images[i]);
        write_mask(data_ + "/ground_truth/" + k + "/" + name(i) + "_mask.png", bad.masks[i]);
      }
    }
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  static std::string eval_bin() { return std::string("'") + env("PRN_EVAL_BIN") + "'"; }
  static std::string infer_bin() { return std::string("'") + env("PRN_INFER_BIN") + "'"; }

  static TempDir *tmp_;
  static std::string bundle_, data_;
};

TempDir *EvalInfer::tmp_ = nullptr;
std::string EvalInfer::bundle_, EvalInfer::data_;

TEST_F(EvalInfer, EvalMetricsEqualRecomputedWithoutSeenAnomalies) {
  TempDir out;
  const auto r = run(eval_bin() + " --bundle '" + bundle_ + "' --data '" + data_ + "' --out '" + out.path() +
                         "' --batch 4 --threads 1 --overlays 4 --save-maps",
                     out);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("removed 1 seen anomaly"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tex |"), std::string::npos) << r.out; // the Markdown table
  for (const char *f : {"metrics.md", "metrics.csv", "metrics.json", "tex/scores.csv", "tex/maps.bin"})
    EXPECT_TRUE(fs::is_regular_file(out.file(f))) << f;
  for (const char *f : {"tex/roc_image.png", "tex/roc_pixel.png", "tex/pro.png", "tex/overlays.png"})
    EXPECT_TRUE(decodes(out.file(f))) << f;
  int overlays = 0;
  for (const auto &e : fs::directory_iterator(out.file("tex/overlays")))
    overlays += decodes(e.path().string());
  EXPECT_EQ(overlays, 4);

  const auto j = read_json(out.file("metrics.json"));
  EXPECT_EQ(num(j, "cases.#"), 1);
  EXPECT_EQ(num(j, "cases.0.evaluated"), 9); // 4 good + 6 defective - 1 seen
  EXPECT_EQ(num(j, "cases.0.seen_removed"), 1);
  EXPECT_EQ(num(j, "cases.0.normal"), 4);
  EXPECT_EQ(num(j, "cases.0.anomalous"), 5);
  EXPECT_EQ(str(j, "cases.0.category"), "tex");
  const std::string scores_csv = read_text(out.file("tex/scores.csv"));
  EXPECT_EQ(scores_csv.find("test/hole/000.png"), std::string::npos) << "the seen anomaly was evaluated";
  EXPECT_NE(scores_csv.find("test/hole/001.png"), std::string::npos);

  // Recompute: same images in the order of scores.csv, the same model.
  auto b = prn::load_bundle(bundle_);
  EXPECT_EQ(str(j, "cases.0.model_id"), b.model_id);
  b.model->eval();
  std::map<std::string, prn::data::Sample> by_rel;
  for (const auto &s : prn::data::read_category(data_).test)
    by_rel[fs::path(s.image_path).lexically_relative(data_).generic_string()] = s;
  std::vector<torch::Tensor> images, masks;
  std::vector<float> labels;
  std::istringstream lines(scores_csv);
  std::string line;
  std::getline(lines, line); // header
  while (std::getline(lines, line)) {
    const auto &s = by_rel.at(line.substr(0, line.find(',')));
    images.push_back(prn::data::load_image(s.image_path, S));
    masks.push_back(prn::data::load_mask(s.mask_path, S));
    labels.push_back(s.anomalous ? 1.f : 0.f);
  }
  ASSERT_EQ(images.size(), 9u);
  torch::set_num_threads(1);
  auto all = torch::stack(images);
  auto mine = torch::cat({b.model->anomaly_map(all.narrow(0, 0, 4)), b.model->anomaly_map(all.narrow(0, 4, 4)),
                          b.model->anomaly_map(all.narrow(0, 8, 1))});
  const auto maps = prn::test::read_bin(out.file("tex/maps.bin"));
  ASSERT_EQ(maps.sizes(), mine.sizes());
  EXPECT_LT((maps - mine).abs().max().item<double>(), 1e-5);
  const auto mask_t = torch::stack(masks);
  const auto label_t = torch::tensor(labels);
  const double expected[] = {prn::auroc(prn::image_scores(maps, b.model->config().top_k), label_t),
                             prn::auroc(maps, mask_t), prn::aupro(maps, mask_t, 0.3).aupro,
                             prn::average_precision(maps, mask_t)};
  const char *keys[] = {"image_auroc", "pixel_auroc", "aupro", "pixel_ap"};
  for (int k = 0; k < 4; ++k) {
    const double v = num(j, std::string("cases.0.") + keys[k]);
    EXPECT_GE(v, 0.0) << keys[k];
    EXPECT_LE(v, 1.0) << keys[k];
    EXPECT_NEAR(v, expected[k], 1e-6) << keys[k];
    EXPECT_NEAR(num(j, std::string("mean.") + keys[k]), expected[k], 1e-6) << keys[k];
  }
  // CSV: header, the case, the mean.
  const std::string csv = read_text(out.file("metrics.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;
  EXPECT_NE(csv.find("\nmean,"), std::string::npos) << csv;
}

TEST_F(EvalInfer, EvalSeveralCasesGetTheirOwnFoldersAndAMean) {
  TempDir out;
  const auto r = run(eval_bin() + " --case '" + bundle_ + "=" + data_ + "' --case '" + bundle_ + "=" + data_ +
                         "' --out '" + out.path() + "' --overlays 0 --threads 1",
                     out);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const auto j = read_json(out.file("metrics.json"));
  EXPECT_EQ(num(j, "cases.#"), 2);
  EXPECT_EQ(num(j, "mean.evaluated"), 18);
  EXPECT_NEAR(num(j, "mean.pixel_auroc"), num(j, "cases.1.pixel_auroc"), 1e-9);
  EXPECT_TRUE(fs::is_regular_file(out.file("tex/scores.csv")));
  EXPECT_TRUE(fs::is_regular_file(out.file("tex-2/scores.csv")));
  EXPECT_FALSE(fs::exists(out.file("tex/overlays.png")));
}

// --map-sigma: the maps scored (and saved) are the bundle's maps smoothed by
// prn::smooth_maps; sigma 0 leaves them as they are.
TEST_F(EvalInfer, EvalMapSigmaScoresTheSmoothedMaps) {
  TempDir out;
  const std::string common = " --bundle '" + bundle_ + "' --data '" + data_ + "' --overlays 0 --threads 1 --save-maps";
  for (const char *sigma : {"0", "2"}) {
    const auto r = run(eval_bin() + common + " --map-sigma " + sigma + " --out '" + out.file(sigma) + "'", out);
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
  }
  const auto plain = prn::test::read_bin(out.file("0/tex/maps.bin"));
  const auto smooth = prn::test::read_bin(out.file("2/tex/maps.bin"));
  ASSERT_EQ(plain.sizes(), smooth.sizes());
  EXPECT_GT((plain - smooth).abs().max().item<double>(), 1e-3); // it did smooth
  EXPECT_LT((prn::smooth_maps(plain, 2.0) - smooth).abs().max().item<double>(), 1e-5);
  const auto j = read_json(out.file("2/metrics.json"));
  EXPECT_NEAR(num(j, "cases.0.pixel_auroc"), prn::auroc(smooth, [&] {
                std::vector<torch::Tensor> masks;
                std::istringstream lines(read_text(out.file("2/tex/scores.csv")));
                std::string line;
                std::getline(lines, line);
                while (std::getline(lines, line)) {
                  const std::string rel = line.substr(0, line.find(','));
                  std::string mask;
                  for (const auto &s : prn::data::read_category(data_).test)
                    if (fs::path(s.image_path).lexically_relative(data_).generic_string() == rel)
                      mask = s.mask_path;
                  masks.push_back(prn::data::load_mask(mask, S));
                }
                return torch::stack(masks);
              }()),
              1e-6);
}

// --kinds: normal images plus the chosen defect kinds; "unseen" = the kinds the
// bundle's seen anomalies (here one hole) do not come from, i.e. spot.
TEST_F(EvalInfer, EvalKindsSelectsDefectKindsAndUnseenLeavesTheSeenKindOut) {
  TempDir out;
  struct Case {
    std::string kinds;
    int evaluated, anomalous;
    std::string absent, present;
  } cases[] = {{"unseen", 7, 3, "test/hole/", "test/spot/"}, {"hole", 6, 2, "test/spot/", "test/hole/001.png"}};
  for (const auto &c : cases) {
    const std::string dir = out.file(c.kinds);
    const auto r = run(eval_bin() + " --bundle '" + bundle_ + "' --data '" + data_ + "' --out '" + dir +
                           "' --overlays 0 --threads 1 --kinds " + c.kinds,
                       out);
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
    const auto j = read_json(dir + "/metrics.json");
    EXPECT_EQ(num(j, "cases.0.evaluated"), c.evaluated) << c.kinds;
    EXPECT_EQ(num(j, "cases.0.normal"), 4) << c.kinds;
    EXPECT_EQ(num(j, "cases.0.anomalous"), c.anomalous) << c.kinds;
    EXPECT_EQ(num(j, "cases.0.seen_removed"), 1) << c.kinds;
    const std::string scores = read_text(dir + "/tex/scores.csv");
    EXPECT_EQ(scores.find(c.absent), std::string::npos) << c.kinds << "\n" << scores;
    EXPECT_NE(scores.find(c.present), std::string::npos) << c.kinds << "\n" << scores;
    EXPECT_NE(scores.find("test/good/"), std::string::npos) << c.kinds;
  }
}

TEST_F(EvalInfer, InferWritesJsonLinesOverlaysAndBoxesInOriginalCoordinates) {
  TempDir in, out;
  // A planted dark hole, stretched to 192 x 128 (width x height).
  prn::SyntheticTextures t(S, 5);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto bad = dark_discs(t, 1, gen);
  auto big = torch::nn::functional::interpolate(
      bad.images, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{128, 192}).mode(torch::kBilinear).align_corners(false));
  auto big_mask = torch::nn::functional::interpolate(
      bad.masks, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{128, 192}).mode(torch::kNearest));
  write_rgb(in.file("images/planted.png"), big[0]);
  auto normal = t.normal_images(2);
  write_rgb(in.file("images/sub/n0.png"), normal[0]);
  write_rgb(in.file("images/.hidden/skip.png"), normal[0]);
  write_rgb(in.file("single.jpg"), normal[1]);
  const auto r = run(infer_bin() + " --bundle '" + bundle_ + "' --out '" + out.path() + "' --threads 1 '" +
                         in.file("images") + "' '" + in.file("single.jpg") + "'",
                     out);
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;
  const auto j = read_json(out.file("results.jsonl"));
  ASSERT_EQ(num(j, "#"), 3);
  auto b = prn::load_bundle(bundle_);
  int planted = -1;
  for (int i = 0; i < 3; ++i) {
    const std::string p = std::to_string(i) + ".";
    const double score = num(j, p + "image_score");
    EXPECT_EQ(str(j, p + "model_id"), b.model_id);
    EXPECT_NEAR(num(j, p + "threshold"), b.calibration.image_threshold, 1e-9);
    EXPECT_NEAR(num(j, p + "pixel_threshold"), b.calibration.pixel_threshold, 1e-9);
    EXPECT_NEAR(num(j, p + "image_score_normalised"), b.calibration.normalise_image(score), 1e-9);
    EXPECT_EQ(j.at(p + "anomalous"), score >= b.calibration.image_threshold ? "true" : "false");
    cv::Size size;
    EXPECT_TRUE(decodes(str(j, p + "overlay"), &size));
    EXPECT_EQ(size.width, num(j, p + "width"));
    EXPECT_EQ(size.height, num(j, p + "height"));
    if (str(j, p + "path").find("planted") != std::string::npos)
      planted = i;
  }
  ASSERT_GE(planted, 0);
  const std::string p = std::to_string(planted) + ".";
  EXPECT_EQ(num(j, p + "width"), 192);
  EXPECT_EQ(num(j, p + "height"), 128);
  EXPECT_EQ(j.at(p + "anomalous"), "true");
  ASSERT_GE(num(j, p + "boxes.#"), 1);
  // The box with the highest peak overlaps the planted defect (original coordinates).
  auto nz = torch::nonzero(big_mask[0][0] > 0.5);
  const cv::Rect defect(nz.select(1, 1).min().item<int>(), nz.select(1, 0).min().item<int>(),
                        nz.select(1, 1).max().item<int>() - nz.select(1, 1).min().item<int>() + 1,
                        nz.select(1, 0).max().item<int>() - nz.select(1, 0).min().item<int>() + 1);
  const cv::Rect box(static_cast<int>(num(j, p + "boxes.0.x")), static_cast<int>(num(j, p + "boxes.0.y")),
                     static_cast<int>(num(j, p + "boxes.0.width")), static_cast<int>(num(j, p + "boxes.0.height")));
  EXPECT_GT((box & defect).area(), 0) << "box " << box << " defect " << defect;
  EXPECT_GE(num(j, p + "boxes.0.peak"), b.calibration.pixel_threshold);
  // The score is the model's on the image resized to S.
  b.model->eval();
  auto map = b.model->anomaly_map(prn::data::load_image(in.file("images/planted.png"), S).unsqueeze(0));
  EXPECT_NEAR(num(j, p + "image_score"), prn::image_scores(map, b.model->config().top_k).item<double>(), 1e-5);

  // Pixel threshold 0: one region, the whole image.
  TempDir out0;
  const auto r0 = run(infer_bin() + " --bundle '" + bundle_ + "' --out '" + out0.path() +
                          "' --pixel-threshold 0 --threshold 0 --no-overlays '" + in.file("images/planted.png") + "'",
                      out0);
  ASSERT_EQ(r0.rc, 0) << r0.err;
  const auto j0 = read_json(out0.file("results.jsonl"));
  EXPECT_EQ(num(j0, "#"), 1);
  EXPECT_EQ(j0.at("0.anomalous"), "true");
  EXPECT_EQ(j0.at("0.overlay"), "null");
  ASSERT_EQ(num(j0, "0.boxes.#"), 1);
  EXPECT_EQ(num(j0, "0.boxes.0.x"), 0);
  EXPECT_EQ(num(j0, "0.boxes.0.y"), 0);
  EXPECT_EQ(num(j0, "0.boxes.0.width"), 192);
  EXPECT_EQ(num(j0, "0.boxes.0.height"), 128);
  EXPECT_EQ(num(j0, "0.boxes.0.area"), 192 * 128);
}

TEST_F(EvalInfer, BadInputFailsNamingTheProblem) {
  TempDir t;
  prn::test::write_bytes(t.file("corrupt.prn"), "this is not a model bundle");
  fs::create_directories(t.file("empty"));
  const std::string b = " --bundle '" + bundle_ + "'";
  struct Case {
    std::string cmd, needle;
  } cases[] = {
      {eval_bin() + " --bundle '" + t.file("missing.prn") + "' --data '" + data_ + "'", "missing.prn"},
      {eval_bin() + " --bundle '" + t.file("corrupt.prn") + "' --data '" + data_ + "' --out '" + t.file("o") + "'",
       "corrupt.prn"},
      {eval_bin() + b + " --data '" + t.file("nodata") + "'", "nodata"},
      {eval_bin() + b + " --data '" + t.file("empty") + "' --out '" + t.file("o") + "'", "empty"},
      {eval_bin() + b + " --data '" + data_ + "' --frobnicate", "--frobnicate"},
      {eval_bin() + " --case '" + bundle_ + "'", "BUNDLE=FOLDER"},
      {eval_bin() + b + " --data '" + data_ + "' --batch 0", "--batch"},
      {eval_bin() + b, "--data"},
      {eval_bin() + b + " --data '" + data_ + "' --kinds dent --out '" + t.file("o") + "'", "'dent' is not a defect kind"},
      {eval_bin() + b + " --data '" + data_ + "' --map-sigma -1 --out '" + t.file("o") + "'", "map_sigma"},
      {infer_bin() + " --bundle '" + t.file("missing.prn") + "' '" + data_ + "'", "missing.prn"},
      {infer_bin() + " --bundle '" + t.file("corrupt.prn") + "' --out '" + t.file("o") + "' '" + data_ + "'",
       "corrupt.prn"},
      {infer_bin() + b + " '" + t.file("nothere.png") + "'", "nothere.png"},
      {infer_bin() + b + " --frobnicate '" + data_ + "'", "--frobnicate"},
      {infer_bin() + b + " --threshold 2 '" + data_ + "'", "--threshold"},
      {infer_bin() + b, "no input"},
  };
  for (const auto &c : cases) {
    const auto r = run(c.cmd, t);
    EXPECT_EQ(r.rc, 2) << c.cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.cmd << "\nstderr: " << r.err;
  }
  // An unreadable image among good ones: an error line, the others scored, exit 1.
  fs::create_directories(t.file("imgs"));
  prn::test::write_bytes(t.file("imgs/broken.png"), "not a png");
  fs::copy_file(data_ + "/test/good/000.png", t.file("imgs/good.png"));
  const auto r = run(infer_bin() + b + " --out '" + t.file("io") + "' '" + t.file("imgs") + "'", t);
  EXPECT_EQ(r.rc, 1) << r.err;
  const auto j = read_json(t.file("io/results.jsonl"));
  EXPECT_EQ(num(j, "#"), 2);
  EXPECT_NE(j.at("0.error").find("broken.png"), std::string::npos);
  EXPECT_TRUE(j.count("1.image_score"));
}

} // namespace
