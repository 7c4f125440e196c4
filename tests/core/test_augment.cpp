// Tests of the anomaly synthesis: Perlin masks, DRAEM's augmenters, simulated
// anomalies (extended anomalies: test_augment_extended.cpp).
#include "augment/augmenters.h"
#include "augment/geometry.h"
#include "prn/augment/perlin.h"
#include "prn/augment/simulated.h"
#include "augment_test_util.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace {

namespace aug = prn::augment;
namespace det = prn::augment::detail;

using prn::test::gen;
using prn::test::is_binary;
using prn::test::max_abs;
using prn::test::random_image;

// ---- Perlin -----------------------------------------------------------------

// Classic Perlin noise evaluated pixel by pixel (DRAEM's rand_perlin_2d).
double perlin_reference(const torch::Tensor &angles, int64_t h, int64_t w, int64_t y, int64_t x) {
  const int64_t sy = angles.size(0) - 1, sx = angles.size(1) - 1;
  auto a = angles.accessor<float, 2>();
  const double u = static_cast<double>(y) * sy / h, v = static_cast<double>(x) * sx / w;
  const int64_t i = std::min<int64_t>(static_cast<int64_t>(std::floor(u)), sy - 1);
  const int64_t j = std::min<int64_t>(static_cast<int64_t>(std::floor(v)), sx - 1);
  const double ty = u - i, tx = v - j;
  auto dot = [&](int64_t di, int64_t dj) {
    const double ang = a[i + di][j + dj];
    return std::cos(ang) * (ty - di) + std::sin(ang) * (tx - dj);
  };
  auto fade = [](double t) { return t * t * t * (t * (t * 6 - 15) + 10); };
  const double fy = fade(ty), fx = fade(tx);
  const double n0 = dot(0, 0) + fy * (dot(1, 0) - dot(0, 0));
  const double n1 = dot(0, 1) + fy * (dot(1, 1) - dot(0, 1));
  return std::sqrt(2.0) * (n0 + fx * (n1 - n0));
}

TEST(PerlinNoise, MatchesPixelwiseReference) {
  auto g = gen(3);
  for (auto [h, w, sy, sx] : std::vector<std::array<int64_t, 4>>{{64, 48, 4, 2}, {37, 50, 1, 8}, {128, 128, 32, 16}}) {
    auto angles = 2 * M_PI * at::rand({sy + 1, sx + 1}, g, torch::kFloat32);
    auto n = det::perlin_noise_from_angles(h, w, angles);
    ASSERT_EQ(n.sizes(), (std::vector<int64_t>{h, w}));
    auto acc = n.accessor<float, 2>();
    double worst = 0;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        worst = std::max(worst, std::abs(acc[y][x] - perlin_reference(angles, h, w, y, x)));
    EXPECT_LT(worst, 1e-5) << h << "x" << w << " scales " << sy << "x" << sx;
  }
}

TEST(PerlinNoise, RangeZerosAtLatticeAndSmooth) {
  for (int64_t s : {1, 2, 4, 8, 16, 32}) {
    auto g = gen(100 + s);
    auto n = aug::perlin_noise(256, 256, s, s, g);
    EXPECT_LE(max_abs(n), 1.0 + 1e-5) << "scale " << s;
    EXPECT_GT(n.std().item<double>(), 0.05) << "scale " << s;
    const int64_t cell = 256 / s;
    auto lattice = n.slice(0, 0, 256, cell).slice(1, 0, 256, cell);
    EXPECT_LT(max_abs(lattice), 1e-6) << "noise must vanish at lattice points, scale " << s;
    // Derivative of sqrt(2) * Perlin is below 4 sqrt(2) per cell: per-pixel steps are small.
    const double bound = 4 * std::sqrt(2.0) * s / 256.0;
    const double dy = max_abs(n.slice(0, 1) - n.slice(0, 0, -1)), dx = max_abs(n.slice(1, 1) - n.slice(1, 0, -1));
    EXPECT_LT(dy, bound) << "scale " << s;
    EXPECT_LT(dx, bound) << "scale " << s;
    EXPECT_GT(std::max(dy, dx), 0.05 * bound) << "scale " << s;
  }
}

TEST(PerlinNoise, DeterministicPerSeed) {
  auto a = gen(7), b = gen(7), c = gen(8);
  auto na = aug::perlin_noise(64, 64, 4, 8, a), nb = aug::perlin_noise(64, 64, 4, 8, b);
  auto nc = aug::perlin_noise(64, 64, 4, 8, c);
  EXPECT_TRUE(torch::equal(na, nb));
  EXPECT_GT(max_abs(na - nc), 0.1);
  EXPECT_PRN_ERROR(aug::perlin_noise(64, 64, 0, 4, a), "scales >= 1", "0x4");
}

TEST(PerlinMask, BinaryNonEmptyDeterministic) {
  std::vector<torch::Tensor> masks;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    auto g = gen(seed), g2 = gen(seed);
    auto m = aug::perlin_mask(96, 128, g);
    ASSERT_EQ(m.sizes(), (std::vector<int64_t>{1, 96, 128}));
    EXPECT_EQ(m.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(is_binary(m));
    EXPECT_GT(m.sum().item<double>(), 0) << "seed " << seed;
    EXPECT_TRUE(torch::equal(m, aug::perlin_mask(96, 128, g2)));
    masks.push_back(m);
  }
  int distinct = 0;
  for (size_t i = 1; i < masks.size(); ++i)
    distinct += torch::equal(masks[i], masks[i - 1]) ? 0 : 1;
  EXPECT_EQ(distinct, static_cast<int>(masks.size()) - 1);
}

TEST(PerlinMask, RotatedNoiseThresholdedAndScalesDrawn) {
  std::set<int64_t> scales;
  double min_angle = 1e9, max_angle = -1e9;
  for (uint64_t seed = 0; seed < 120; ++seed) {
    auto g = gen(seed);
    auto t = det::perlin_mask_traced(64, 64, g, 0.5);
    ASSERT_GE(t.attempts, 1);
    EXPECT_GE(t.angle, -90.0);
    EXPECT_LE(t.angle, 90.0);
    min_angle = std::min(min_angle, t.angle);
    max_angle = std::max(max_angle, t.angle);
    for (int64_t s : {t.scale_y, t.scale_x}) {
      EXPECT_TRUE(s >= 1 && s <= 32 && (s & (s - 1)) == 0) << s;
      scales.insert(s);
    }
    EXPECT_TRUE(torch::allclose(t.rotated, det::rotate(t.noise.unsqueeze(0), t.angle).squeeze(0), 1e-6, 1e-6));
    EXPECT_TRUE(torch::equal(t.mask, (t.rotated > 0.5).to(torch::kFloat32).unsqueeze(0)));
    if (std::abs(t.angle) > 20) { // the rotation really changed the noise (corners are zero-filled)
      EXPECT_GT(max_abs(t.rotated - t.noise), 0.05) << "seed " << seed << " angle " << t.angle;
    }
  }
  EXPECT_EQ(scales, (std::set<int64_t>{1, 2, 4, 8, 16, 32}));
  EXPECT_LT(min_angle, -60);
  EXPECT_GT(max_angle, 60);
}

TEST(AugmentGeometry, RotateQuarterTurnsMatchRot90) {
  auto img = random_image(31, 31, 5);
  EXPECT_LT(max_abs(det::rotate(img, 0) - img), 1e-5);
  EXPECT_LT(max_abs(det::rotate(img, 90) - torch::rot90(img, 1, {1, 2})), 1e-5);
  EXPECT_LT(max_abs(det::rotate(img, -90) - torch::rot90(img, 3, {1, 2})), 1e-5);
  EXPECT_LT(max_abs(det::rotate(img, 180) - torch::rot90(img, 2, {1, 2})), 1e-5);
  // 45 degrees: the corners leave the image and are zero-filled; the centre stays.
  auto r = det::rotate(img, 45);
  EXPECT_EQ(r[0][0][0].item<float>(), 0.0f);
  EXPECT_NEAR(r[1][15][15].item<float>(), img[1][15][15].item<float>(), 1e-5);
}

// ---- DRAEM's augmenters -------------------------------------------------------

TEST(DraemAugment, RangeShapeDeterminismAndChoice) {
  auto img = random_image(48, 40, 1);
  std::set<int> used;
  torch::Tensor prev;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    auto g = gen(seed), g2 = gen(seed);
    std::array<int, 3> chosen{};
    auto out = det::draem_augment_traced(img, g, &chosen);
    ASSERT_EQ(out.sizes(), img.sizes());
    EXPECT_EQ(out.scalar_type(), torch::kFloat32);
    EXPECT_GE(out.min().item<float>(), 0.0f);
    EXPECT_LE(out.max().item<float>(), 1.0f);
    EXPECT_TRUE(out.isfinite().all().item<bool>());
    EXPECT_EQ(std::set<int>(chosen.begin(), chosen.end()).size(), 3u) << "drawn without replacement";
    used.insert(chosen.begin(), chosen.end());
    EXPECT_TRUE(torch::equal(out, aug::draem_augment(img, g2)));
    if (prev.defined()) {
      EXPECT_FALSE(torch::equal(out, prev));
    }
    prev = out;
  }
  EXPECT_EQ(used.size(), static_cast<size_t>(det::kDraemAugmenters));
  auto g0 = gen(0);
  EXPECT_PRN_ERROR(aug::draem_augment(torch::rand({1, 8, 8}), g0), "(3, H, W)", "[1, 8, 8]");
}

TEST(DraemAugmenters, EachKeepsRangeAndShape) {
  auto img = random_image(32, 32, 2);
  for (int i = 0; i < det::kDraemAugmenters; ++i)
    for (uint64_t seed = 0; seed < 5; ++seed) {
      auto g = gen(seed);
      auto out = det::apply_draem_augmenter(i, img, g);
      ASSERT_EQ(out.sizes(), img.sizes()) << det::draem_augmenter_name(i);
      EXPECT_GE(out.min().item<float>(), 0.0f) << det::draem_augmenter_name(i);
      EXPECT_LE(out.max().item<float>(), 1.0f) << det::draem_augmenter_name(i);
    }
}

TEST(DraemAugmenters, InvertTwiceIsIdentity) {
  auto img = random_image(16, 16, 3);
  EXPECT_LT(max_abs(det::invert(det::invert(img)) - img), 1e-6);
  EXPECT_LT(max_abs(det::invert(img) + img - 1), 1e-6);
}

TEST(DraemAugmenters, SolarizeInvertsAtAndAboveThreshold) {
  auto img = random_image(16, 16, 4);
  const double t = 80.0 / 255.0;
  auto out = det::solarize(img, t);
  auto above = img >= t;
  EXPECT_TRUE(torch::equal(out.masked_select(~above), img.masked_select(~above)));
  EXPECT_LT(max_abs(out.masked_select(above) - (1 - img.masked_select(above))), 1e-6);
  EXPECT_GT(above.sum().item<int64_t>(), 0);
}

TEST(DraemAugmenters, PosterizeKeepsTopBits) {
  auto img = random_image(32, 32, 5);
  auto out = det::posterize(img, 2);
  auto levels = det::to_levels(out);
  EXPECT_TRUE(torch::equal(levels % 64, torch::zeros_like(levels)));
  EXPECT_LE(std::get<0>(at::_unique(levels)).numel(), 4);
  auto diff = det::to_levels(img) - levels;
  EXPECT_GE(diff.min().item<int64_t>(), 0);
  EXPECT_LT(diff.max().item<int64_t>(), 64);
  auto quantised = det::to_levels(img).to(torch::kFloat32) / 255.0;
  EXPECT_LT(max_abs(det::posterize(quantised, 8) - quantised), 1e-6);
}

TEST(DraemAugmenters, EqualizeFlattensHistogram) {
  auto g = gen(6);
  auto img = 0.4 + 0.15 * at::rand({3, 256, 256}, g, torch::kFloat32).pow(2); // narrow, skewed
  auto out = det::equalize(img);
  // Distance of the value distribution from uniform on [0, 1] (Kolmogorov-Smirnov).
  auto ks = [](const torch::Tensor &x) {
    auto s = std::get<0>(x.reshape({-1}).sort());
    auto ideal = (torch::arange(s.numel(), torch::kFloat32) + 0.5) / s.numel();
    return max_abs(s - ideal);
  };
  EXPECT_GT(ks(img), 0.35);
  EXPECT_LT(ks(out), 0.2); // bounded below by the largest level's mass (about 0.16 here)
  EXPECT_LT(out.min().item<float>(), 0.02);
  EXPECT_GT(out.max().item<float>(), 0.95);
  // Monotone per channel: a brighter input is never darker afterwards.
  // PIL's mapping sends each level to the fraction of pixels below it, over
  // the pixels not in the top level: below = level * (1 - top mass).
  for (int c = 0; c < 3; ++c) {
    auto sorted = std::get<0>(out[c].reshape({-1}).sort());
    auto levels = std::get<0>(at::_unique(sorted));
    auto below = torch::searchsorted(sorted, levels).to(torch::kFloat32) / sorted.numel();
    const double top_mass = 1.0 - below[-1].item<double>();
    EXPECT_LT(max_abs(below - levels * (1 - top_mass)), 0.01) << "channel " << c;
  }
  auto order = std::get<1>(img[0].reshape({-1}).sort());
  auto sorted_out = out[0].reshape({-1}).index_select(0, order);
  EXPECT_GE((sorted_out.slice(0, 1) - sorted_out.slice(0, 0, -1)).min().item<float>(), 0.0f);
}

TEST(DraemAugmenters, AutocontrastStretchesEachChannel) {
  auto g = gen(7);
  auto img = 0.3 + 0.4 * at::rand({3, 32, 32}, g, torch::kFloat32);
  auto out = det::autocontrast(img, 0);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(out[c].min().item<float>(), 0.0f, 1.0 / 255);
    EXPECT_NEAR(out[c].max().item<float>(), 1.0f, 1.0 / 255);
  }
  auto flat = torch::full({3, 8, 8}, 0.5f);
  EXPECT_TRUE(torch::allclose(det::autocontrast(flat, 10), flat));
}

TEST(DraemAugmenters, SimpleParametricInvariants) {
  auto img = random_image(24, 24, 8);
  EXPECT_LT(max_abs(det::gamma_contrast(img, {1, 1, 1}) - img), 1e-6);
  EXPECT_LT(max_abs(det::gamma_contrast(img, {2, 1, 0.5})[0] - img[0].pow(2)), 1e-6);
  EXPECT_LT(max_abs(det::multiply_add_brightness(img, 1, 0) - img), 1e-6);
  auto grey = torch::full({3, 4, 4}, 0.5f);
  EXPECT_LT(max_abs(det::multiply_add_brightness(grey, 1.2, 0.05) - 0.65), 1e-6);
  EXPECT_LT(max_abs(det::sharpness(img, 1.0) - img), 1e-6);
  EXPECT_LT(max_abs(det::sharpness(grey, 1.7) - grey), 1e-6);
  EXPECT_GT(max_abs(det::sharpness(img, 0.0) - img), 0.05);
  EXPECT_LT(max_abs(det::hsv_to_rgb(det::rgb_to_hsv(img)) - img), 1e-5);
  auto red = torch::zeros({3, 2, 2});
  red[0].fill_(1.0);
  auto green = det::shift_hue_saturation(red, 1.0 / 3.0, 0.0);
  EXPECT_LT(max_abs(green[1] - 1) + max_abs(green[0]) + max_abs(green[2]), 1e-5);
  EXPECT_LT(max_abs(det::shift_hue_saturation(img, 0.0, -1.0) - std::get<0>(img.max(0))), 1e-5);
}

// ---- simulated anomalies ------------------------------------------------------

TEST(SimulatedAnomaly, OutsideExactInsideBlend) {
  auto normal = random_image(64, 64, 10);
  auto source = random_image(100, 80, 11);
  std::set<double> betas;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto g = gen(seed);
    auto t = det::simulate_anomaly_traced(normal, source, g);
    const auto &out = t.out;
    ASSERT_EQ(out.image.sizes(), normal.sizes());
    ASSERT_EQ(out.mask.sizes(), (std::vector<int64_t>{1, 64, 64}));
    ASSERT_EQ(t.augmented.sizes(), normal.sizes());
    EXPECT_TRUE(is_binary(out.mask));
    EXPECT_GT(out.mask.sum().item<double>(), 0);
    EXPECT_GE(t.beta, 0.0);
    EXPECT_LT(t.beta, 0.8);
    betas.insert(t.beta);
    auto outside = (out.mask == 0).expand_as(normal), inside = ~outside;
    EXPECT_TRUE(torch::equal(out.image.masked_select(outside), normal.masked_select(outside)));
    auto expected = (1 - t.beta) * t.augmented + t.beta * normal;
    EXPECT_LT(max_abs(out.image.masked_select(inside) - expected.masked_select(inside)), 1e-6);
    EXPECT_GT(max_abs(out.image - normal), 0.01);
  }
  EXPECT_GT(betas.size(), 10u);
}

TEST(SimulatedAnomaly, DeterministicAndChecked) {
  auto normal = random_image(32, 48, 12);
  auto source = random_image(40, 24, 13).slice(0, 0, 1);
  auto a = gen(5), b = gen(5), c = gen(6);
  auto ra = aug::simulate_anomaly(normal, source, a), rb = aug::simulate_anomaly(normal, source, b);
  auto rc = aug::simulate_anomaly(normal, source, c);
  EXPECT_TRUE(torch::equal(ra.image, rb.image) && torch::equal(ra.mask, rb.mask));
  EXPECT_FALSE(torch::equal(ra.mask, rc.mask));
  EXPECT_PRN_ERROR(aug::simulate_anomaly(normal.to(torch::kFloat64), source, a), "float32", "Double");
  EXPECT_PRN_ERROR(aug::simulate_anomaly(normal, torch::rand({2, 8, 8}), a), "source", "[2, 8, 8]");
}

} // namespace
