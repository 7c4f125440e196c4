// The evaluation metrics: hand-checked cases, errors, and seeded fixtures checked
// against independent references run at test time (scikit-learn, and an AUPRO
// after MVTec AD's evaluation code in tests/fixtures/metrics_reference.py).
#include "prn/metrics.h"
#include "test_util.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

namespace {

constexpr double kTol = 1e-4;       // metric values against the references
constexpr double kCurveTol = 1e-6;  // curve points against the references

void expect_curve(const prn::Curve &c, const std::vector<double> &x, const std::vector<double> &y,
                  double tol, const std::string &what) {
  ASSERT_EQ(c.x.size(), x.size()) << what << ": number of points";
  ASSERT_EQ(c.y.size(), y.size()) << what << ": number of points";
  for (size_t k = 0; k < x.size(); ++k) {
    EXPECT_NEAR(c.x[k], x[k], tol) << what << ": x of point " << k;
    EXPECT_NEAR(c.y[k], y[k], tol) << what << ": y of point " << k;
  }
}

// ----------------------------------------------------------------------------- hand-checked

TEST(MetricsHand, RocCurveOfAFourSampleExample) {
  auto s = torch::tensor({0.1, 0.4, 0.35, 0.8}), y = torch::tensor({0, 0, 1, 1});
  // Thresholds 0.8 (+), 0.4 (-), 0.35 (+), 0.1 (-).
  expect_curve(prn::roc_curve(s, y), {0, 0, 0.5, 0.5, 1}, {0, 0.5, 0.5, 1, 1}, 1e-12, "roc");
  EXPECT_DOUBLE_EQ(prn::auroc(s, y), 0.75);
}

TEST(MetricsHand, AveragePrecisionIsTheRecallWeightedPrecision) {
  // (0.5 - 0) * 1 + (1 - 0.5) * 2/3, not the trapezoidal area.
  EXPECT_NEAR(prn::average_precision(torch::tensor({0.1, 0.4, 0.35, 0.8}), torch::tensor({0, 0, 1, 1})),
              0.5 + 0.5 * 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(prn::average_precision(torch::tensor({0.9, 0.8, 0.2}), torch::tensor({1, 1, 0})), 1.0);
  // Only positives: every threshold has precision 1.
  EXPECT_DOUBLE_EQ(prn::average_precision(torch::tensor({0.3, 0.7}), torch::tensor({1, 1})), 1.0);
}

TEST(MetricsHand, TiedScoresFormOneThreshold) {
  auto s = torch::full({5}, 0.5), y = torch::tensor({0, 1, 0, 0, 1});
  expect_curve(prn::roc_curve(s, y), {0, 1}, {0, 1}, 0, "all tied");
  EXPECT_DOUBLE_EQ(prn::average_precision(s, y), 0.4);
  EXPECT_DOUBLE_EQ(prn::auroc(s, y), 0.5);
  // A tie across classes: scores 0.9 (+), 0.5 (+, -), 0.1 (-).
  auto s2 = torch::tensor({0.9, 0.5, 0.5, 0.1}), y2 = torch::tensor({1, 1, 0, 0});
  expect_curve(prn::roc_curve(s2, y2), {0, 0, 0.5, 1}, {0, 0.5, 1, 1}, 1e-12, "one tie");
  EXPECT_NEAR(prn::average_precision(s2, y2), 0.5 * 1.0 + 0.5 * 2.0 / 3.0, 1e-12);
}

TEST(MetricsHand, AuproOfASmallMapByHand) {
  // One 4x4 map: a region of two pixels scoring 0.9 and 0.5; one normal pixel
  // at 0.7, the 13 other normal pixels at 0.
  auto maps = torch::zeros({1, 4, 4}), masks = torch::zeros({1, 4, 4});
  masks[0][0][0] = 1, masks[0][0][1] = 1;
  maps[0][0][0] = 0.9, maps[0][0][1] = 0.5, maps[0][3][3] = 0.7;
  const double f = 1.0 / 14.0;
  // Thresholds 0.9: (0, 1/2); 0.7: (f, 1/2); 0.5: (f, 1); 0: (1, 1).
  auto r = prn::aupro(maps, masks, 0.3);
  expect_curve(r.curve, {0, 0, f, f, 0.3}, {0, 0.5, 0.5, 1, 1}, 1e-12, "limit 0.3");
  EXPECT_NEAR(r.aupro, (0.5 * f + (0.3 - f)) / 0.3, 1e-12);
  auto full = prn::aupro(maps, masks, 1.0);
  expect_curve(full.curve, {0, 0, f, f, 1}, {0, 0.5, 0.5, 1, 1}, 1e-12, "limit 1");
  EXPECT_NEAR(full.aupro, 1.0 - 0.5 * f, 1e-12);
  // A limit before the first normal pixel: interpolated on the flat segment.
  auto early = prn::aupro(maps, masks, 0.5 * f);
  expect_curve(early.curve, {0, 0, 0.5 * f}, {0, 0.5, 0.5}, 1e-12, "limit f/2");
  EXPECT_NEAR(early.aupro, 0.5, 1e-12);
}

TEST(MetricsHand, AuproCurveStopsAtAPointExactlyOnTheLimit) {
  // 10 normal pixels (3 of them above the region), so FPR reaches 0.3 exactly.
  auto maps = torch::zeros({1, 1, 11}), masks = torch::zeros({1, 1, 11});
  masks[0][0][10] = 1;
  maps[0][0][0] = 0.9, maps[0][0][1] = 0.8, maps[0][0][2] = 0.7, maps[0][0][10] = 0.6;
  auto r = prn::aupro(maps, masks, 0.3);
  expect_curve(r.curve, {0, 0.1, 0.2, 0.3, 0.3}, {0, 0, 0, 0, 1}, 1e-15, "exact limit");
  EXPECT_NEAR(r.aupro, 0.0, 1e-12);
}

TEST(MetricsHand, DiagonalNeighboursAreOneRegion) {
  // Pixel (0,0) and a 3-pixel bar from (1,1) touch diagonally: one 8-connected
  // region of 4 pixels, of which only (0,0) scores high. As two regions (4-
  // connectivity) PRO at the top threshold would be (1 + 0) / 2 instead of 1/4.
  auto maps = torch::zeros({1, 6, 6}), masks = torch::zeros({1, 6, 6});
  masks[0][0][0] = 1;
  masks[0][1].slice(0, 1, 4).fill_(1);
  maps[0][0][0] = 1;
  auto r = prn::aupro(maps, masks, 1.0);
  ASSERT_GE(r.curve.y.size(), 2u);
  EXPECT_DOUBLE_EQ(r.curve.x[1], 0.0);
  EXPECT_DOUBLE_EQ(r.curve.y[1], 0.25);
  // A gap of one pixel keeps them apart.
  masks[0][1][1] = 0;
  EXPECT_DOUBLE_EQ(prn::aupro(maps, masks, 1.0).curve.y[1], 0.5);
}

TEST(MetricsHand, AuproTakesAChannelDimensionAndAnyMaskType) {
  auto maps = torch::rand({3, 12, 10}, torch::TensorOptions().dtype(torch::kFloat64));
  auto masks = torch::zeros({3, 12, 10});
  masks[1].slice(0, 2, 6).slice(1, 3, 7).fill_(1);
  masks[2][5][5] = 1;
  const auto a = prn::aupro(maps, masks);
  const auto b = prn::aupro(maps.unsqueeze(1), masks.to(torch::kUInt8).unsqueeze(1));
  EXPECT_DOUBLE_EQ(a.aupro, b.aupro);
  EXPECT_EQ(a.curve.x, b.curve.x);
  EXPECT_EQ(a.curve.y, b.curve.y);
}

TEST(MetricsHand, PerfectSeparationScoresOne) {
  auto masks = torch::zeros({2, 8, 8});
  masks[0].slice(0, 1, 3).slice(1, 1, 4).fill_(1);
  masks[1][6][6] = 1;
  auto maps = 0.4 * torch::rand({2, 8, 8}) + 0.6 * masks;
  EXPECT_DOUBLE_EQ(prn::aupro(maps, masks).aupro, 1.0);
  EXPECT_DOUBLE_EQ(prn::auroc(maps, masks), 1.0);
  EXPECT_DOUBLE_EQ(prn::average_precision(maps, masks), 1.0);
}

// ----------------------------------------------------------------------------- errors

TEST(MetricsErrors, MissingClassesAreNamed) {
  EXPECT_PRN_ERROR(prn::auroc(torch::ones({3}), torch::zeros({3})), "auroc", "0 positive and 3 negative");
  EXPECT_PRN_ERROR(prn::roc_curve(torch::ones({3}), torch::zeros({3})), "roc_curve", "0 positive and 3 negative");
  EXPECT_PRN_ERROR(prn::roc_curve(torch::ones({2}), torch::ones({2})), "roc_curve", "2 positive and 0 negative");
  EXPECT_PRN_ERROR(prn::average_precision(torch::ones({4}), torch::zeros({4})), "average_precision",
                   "at least one positive", "0 positive and 4 negative");
}

TEST(MetricsErrors, BadScoresAreNamed) {
  EXPECT_PRN_ERROR(prn::roc_curve(torch::ones({3}), torch::zeros({4})), "roc_curve", "same number of elements",
                   "got 3 and 4");
  EXPECT_PRN_ERROR(prn::average_precision(torch::ones({5}), torch::Tensor()), "average_precision", "got 5 and 0");
  EXPECT_PRN_ERROR(prn::average_precision(torch::tensor({0.5, std::nan("")}), torch::tensor({1, 0})), "finite", "NaN");
  EXPECT_PRN_ERROR(prn::roc_curve(torch::tensor({HUGE_VAL, 0.0}), torch::tensor({1, 0})), "finite");
}

TEST(MetricsErrors, AuproNeedsRegionsAndNormalPixels) {
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({4, 8, 8}), torch::zeros({4, 8, 8})),
                   "at least one ground-truth region", "none in 4 masks");
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({2, 3, 3}), torch::ones({2, 3, 3})), "at least one normal pixel",
                   "all 18 mask pixels");
}

TEST(MetricsErrors, AuproShapesAreChecked) {
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({2, 8, 8}), torch::zeros({2, 8, 9})), "same (N, H, W) shape",
                   "maps [2, 8, 8]", "masks [2, 8, 9]");
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({8, 8}), torch::zeros({8, 8})), "maps of shape (N, H, W) or (N, 1, H, W)",
                   "got [8, 8]");
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({2, 3, 8, 8}), torch::zeros({2, 8, 8})), "got [2, 3, 8, 8]");
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({2, 8, 8}), torch::Tensor()), "masks", "undefined");
  auto masks = torch::zeros({1, 4, 4});
  masks[0][1][1] = 1;
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({1, 4, 4}), masks, 0.0), "fpr_limit in (0, 1]", "got 0");
  EXPECT_PRN_ERROR(prn::aupro(torch::rand({1, 4, 4}), masks, 1.5), "got 1.5");
  EXPECT_PRN_ERROR(prn::aupro(torch::full({1, 4, 4}, std::nan("")), masks), "finite maps");
}

// ----------------------------------------------------------------------------- references

void write_bin(const std::string &path, const torch::Tensor &t) {
  auto c = t.detach().to(torch::kFloat32).cpu().contiguous();
  std::ofstream out(path, std::ios::binary);
  const int32_t ndim = static_cast<int32_t>(c.dim());
  out.write(reinterpret_cast<const char *>(&ndim), sizeof ndim);
  for (int64_t d : c.sizes())
    out.write(reinterpret_cast<const char *>(&d), sizeof d);
  out.write(reinterpret_cast<const char *>(c.data_ptr<float>()), static_cast<std::streamsize>(c.numel() * 4));
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

using Reference = std::map<std::string, std::vector<double>>;

Reference read_reference(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("no reference output " + path);
  Reference ref;
  std::string key;
  size_t count = 0;
  while (in >> key >> count) {
    auto &v = ref[key];
    v.resize(count);
    for (double &x : v)
      in >> x;
  }
  return ref;
}

double quantise(double v, int levels) { return levels > 0 ? std::round(v * levels) / levels : v; }

struct ProCase {
  torch::Tensor maps, masks;  // (N, H, W) float32
};

// Seeded maps and masks, every 4th mask empty. Image 1 holds fixed shapes: two
// squares touching at a corner (one 8-connected region), two isolated single
// pixels and a bar (4 regions); the others random rectangles and single pixels
// (several regions per image). Scores of defect and normal pixels overlap
// unless separated; levels > 0 quantises them (ties).
ProCase make_pro_case(uint32_t seed, int64_t n, int64_t h, int64_t w, int levels, bool separated) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(gen); };
  ProCase c{torch::zeros({n, h, w}), torch::zeros({n, h, w})};
  auto mk = c.masks.accessor<float, 3>();
  auto mp = c.maps.accessor<float, 3>();
  auto rect = [&](int64_t i, int64_t r0, int64_t c0, int64_t rh, int64_t rw) {
    for (int64_t r = r0; r < std::min(h, r0 + rh); ++r)
      for (int64_t q = c0; q < std::min(w, c0 + rw); ++q)
        mk[i][r][q] = 1;
  };
  for (int64_t i = 0; i < n; ++i) {
    if (i % 4 == 0)
      continue;
    if (i == 1) {
      rect(i, 2, 2, 4, 4), rect(i, 6, 6, 3, 3);      // corner (5,5)-(6,6)
      rect(i, 2, w - 3, 1, 1), rect(i, h - 3, 2, 1, 1);
      rect(i, h - 6, w - 9, 2, 6);
      continue;
    }
    for (int64_t k = pick(1, 4); k > 0; --k)
      rect(i, pick(0, h - 2), pick(0, w - 2), pick(1, 8), pick(1, 8));
    for (int64_t k = pick(1, 2); k > 0; --k)
      rect(i, pick(0, h - 1), pick(0, w - 1), 1, 1);
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < h; ++r)
      for (int64_t q = 0; q < w; ++q) {
        const bool bad = mk[i][r][q] > 0.5f;
        const double v = separated ? (bad ? 0.55 + 0.45 * u(gen) : 0.45 * u(gen))
                                   : (bad ? 0.3 + 0.7 * u(gen) : 0.7 * u(gen));
        mp[i][r][q] = static_cast<float>(quantise(v, levels));
      }
  return c;
}

struct ClsCase {
  torch::Tensor scores, labels;
};

// n seeded samples, each positive with probability p; levels > 0 quantises.
ClsCase make_cls_case(uint32_t seed, int64_t n, double p, int levels, double shift) {
  std::mt19937 gen(seed);
  std::bernoulli_distribution positive(p);
  std::normal_distribution<double> noise(0.0, 1.0);
  ClsCase c{torch::zeros({n}), torch::zeros({n})};
  auto s = c.scores.accessor<float, 1>();
  auto l = c.labels.accessor<float, 1>();
  for (int64_t i = 0; i < n; ++i) {
    const bool y = i < 2 ? i == 0 : positive(gen);  // both classes present
    l[i] = y ? 1.0f : 0.0f;
    s[i] = static_cast<float>(quantise(0.5 + 0.15 * (noise(gen) + (y ? shift : 0.0)), levels));
  }
  return c;
}

class MetricsReference : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new prn::test::TempDir();
    cls_ = new std::map<std::string, ClsCase>();
    pro_ = new std::map<std::string, ProCase>();
    auto &cls = *cls_;
    auto &pro = *pro_;
    cls["ties"] = make_cls_case(11, 3000, 0.3, 10, 1.0);
    cls["continuous"] = make_cls_case(12, 2000, 0.5, 0, 0.8);
    cls["rare"] = make_cls_case(13, 5000, 0.002, 50, 2.0);
    cls["separated"] = make_cls_case(14, 500, 0.4, 0, 100.0);
    cls["all_tied"] = {torch::full({40}, 0.25), make_cls_case(15, 40, 0.3, 0, 0).labels};
    pro["pro_ties"] = make_pro_case(21, 12, 40, 48, 20, false);
    pro["pro_continuous"] = make_pro_case(22, 8, 64, 64, 0, false);
    pro["pro_separated"] = make_pro_case(23, 6, 32, 32, 20, true);
    pro["pro_fixed"] = make_pro_case(24, 2, 24, 24, 8, false);  // image 1 only has regions
    pro["pro_large"] = make_pro_case(25, 100, 256, 256, 1000, false);
    for (const char *name : {"pro_ties", "pro_continuous"}) {
      cls[std::string("pixels_") + name] = {pro[name].maps, pro[name].masks};
      cls[std::string("images_") + name] = {std::get<0>(pro[name].maps.flatten(1).max(1)),
                                            pro[name].masks.flatten(1).amax(1)};
    }
    for (auto &[name, c] : cls) {
      write_bin(dir_->file(name + ".cls.scores.bin"), c.scores);
      write_bin(dir_->file(name + ".cls.labels.bin"), c.labels);
    }
    for (auto &[name, c] : pro) {
      write_bin(dir_->file(name + ".pro.maps.bin"), c.maps);
      write_bin(dir_->file(name + ".pro.masks.bin"), c.masks);
    }
    const char *py = std::getenv("PRN_TEST_PYTHON");
    const char *fixture = std::getenv("PRN_FIXTURE_SCRIPT");
    ASSERT_TRUE(py && fixture) << "PRN_TEST_PYTHON and PRN_FIXTURE_SCRIPT must be set (meson test sets them)";
    const auto script = std::filesystem::path(fixture).parent_path() / "metrics_reference.py";
    const std::string cmd = std::string("'") + py + "' '" + script.string() + "' '" + dir_->path() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "reference script failed: " << cmd;
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete cls_;
    delete pro_;
    dir_ = nullptr;
    cls_ = nullptr;
    pro_ = nullptr;
  }
  static Reference reference(const std::string &name) { return read_reference(dir_->file(name + ".ref.txt")); }

  static prn::test::TempDir *dir_;
  static std::map<std::string, ClsCase> *cls_;
  static std::map<std::string, ProCase> *pro_;
};
prn::test::TempDir *MetricsReference::dir_ = nullptr;
std::map<std::string, ClsCase> *MetricsReference::cls_ = nullptr;
std::map<std::string, ProCase> *MetricsReference::pro_ = nullptr;

TEST_F(MetricsReference, FixturesHoldTiesEmptyMasksAndMergedRegions) {
  for (const char *name : {"ties", "rare", "pixels_pro_ties"}) {
    const auto &s = cls_->at(name).scores;
    EXPECT_LT(std::get<0>(at::_unique(s)).numel(), s.numel() / 10) << name << " has few ties";
  }
  for (auto &[name, c] : *pro_)
    EXPECT_EQ(c.masks[0].sum().item<double>(), 0.0) << name << ": image 0 has an empty mask";
  // Image 1 of pro_fixed: diagonal squares (one region), two single pixels, a bar.
  EXPECT_EQ(reference("pro_fixed").at("regions").at(0), 4.0);
  std::cout << "[metrics] regions: pro_ties " << reference("pro_ties").at("regions").at(0) << ", pro_large "
            << reference("pro_large").at("regions").at(0) << "\n";
  EXPECT_GT(reference("pro_ties").at("regions").at(0), 2.0 * 9) << "several regions per non-empty mask";
  EXPECT_DOUBLE_EQ(reference("separated").at("auroc").at(0), 1.0);
  EXPECT_DOUBLE_EQ(reference("pro_separated").at("aupro@0.3").at(0), 1.0);
}

TEST_F(MetricsReference, AurocApAndRocCurveMatchScikitLearn) {
  for (auto &[name, c] : *cls_) {
    SCOPED_TRACE(name);
    const Reference ref = reference(name);
    EXPECT_NEAR(prn::auroc(c.scores, c.labels), ref.at("auroc").at(0), kTol);
    EXPECT_NEAR(prn::average_precision(c.scores, c.labels), ref.at("ap").at(0), kTol);
    expect_curve(prn::roc_curve(c.scores, c.labels), ref.at("roc_fpr"), ref.at("roc_tpr"), kCurveTol, name);
  }
}

TEST_F(MetricsReference, AuproMatchesTheMvtecReference) {
  for (auto &[name, c] : *pro_) {
    if (name == "pro_large")
      continue;
    const Reference ref = reference(name);
    for (double limit : {0.3, 0.05}) {
      SCOPED_TRACE(name + " fpr_limit " + std::to_string(limit));
      const std::string at = limit == 0.3 ? "@0.3" : "@0.05";
      const auto r = prn::aupro(c.maps, c.masks, limit);
      EXPECT_NEAR(r.aupro, ref.at("aupro" + at).at(0), kTol);
      expect_curve(r.curve, ref.at("pro_fpr" + at), ref.at("pro_y" + at), kCurveTol, name);
    }
  }
}

TEST_F(MetricsReference, AuproOfAHundred256x256MapsMatches) {
  const auto &c = pro_->at("pro_large");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = prn::aupro(c.maps, c.masks);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[metrics] aupro of 100 maps of 256x256: " << seconds << " s (informative, not a limit)\n";
  const Reference ref = reference("pro_large");
  EXPECT_NEAR(r.aupro, ref.at("aupro@0.3").at(0), kTol);
  expect_curve(r.curve, ref.at("pro_fpr@0.3"), ref.at("pro_y@0.3"), kCurveTol, "pro_large");
}

} // namespace
