// Tests of the extended anomalies (seen defects cut out, augmented and pasted
// on normal images) and of the synthesis on several threads.
#include "augment_test_util.h"
#include "prn/augment/extended.h"
#include "prn/augment/simulated.h"
#include "test_util.h"

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

namespace {

namespace aug = prn::augment;

using prn::test::gen;
using prn::test::is_binary;
using prn::test::max_abs;
using prn::test::random_image;

// ---- extended anomalies -------------------------------------------------------

// An asymmetric 'F' (12 x 9) at (top, left) in an (h, w) mask.
torch::Tensor f_mask(int64_t h, int64_t w, int64_t top, int64_t left) {
  auto m = torch::zeros({1, h, w});
  auto f = m[0].slice(0, top, top + 12).slice(1, left, left + 9);
  f.slice(1, 0, 2).fill_(1);
  f.slice(0, 0, 2).fill_(1);
  f.slice(0, 5, 7).slice(1, 0, 6).fill_(1);
  return m;
}

torch::Tensor crop_to_mask(const torch::Tensor &x, const torch::Tensor &mask) {
  auto rows = torch::nonzero(mask[0].any(1)).view({-1}), cols = torch::nonzero(mask[0].any(0)).view({-1});
  return x.slice(-2, rows[0].item<int64_t>(), rows[-1].item<int64_t>() + 1)
      .slice(-1, cols[0].item<int64_t>(), cols[-1].item<int64_t>() + 1);
}

aug::ExtendedOptions no_photometric() {
  aug::ExtendedOptions o;
  o.brightness = o.contrast = o.hue = 0;
  o.p_blur = o.p_noise = 0;
  return o;
}

aug::ExtendedOptions geometry_only(double p_flip, double p_rot90) {
  auto o = no_photometric();
  o.p_flip = p_flip;
  o.p_rot90 = p_rot90;
  o.scale_min = o.scale_max = 1;
  o.rotate_deg = 0;
  o.p_grid = o.p_elastic = 0;
  return o;
}

void expect_outside_unchanged(const aug::Synthesised &s, const torch::Tensor &normal) {
  ASSERT_EQ(s.image.sizes(), normal.sizes());
  ASSERT_EQ(s.mask.sizes(), (std::vector<int64_t>{1, normal.size(1), normal.size(2)}));
  EXPECT_TRUE(is_binary(s.mask));
  auto outside = (s.mask == 0).expand_as(normal);
  EXPECT_TRUE(torch::equal(s.image.masked_select(outside), normal.masked_select(outside)));
}

TEST(ExtendedAnomaly, PastedPixelsComeFromTheDefectOnly) {
  auto normal = random_image(64, 64, 20);
  auto mask = f_mask(64, 64, 26, 28);
  const float colour[3] = {0.9f, 0.2f, 0.1f};
  auto anomaly = torch::full({3, 64, 64}, 0.5f); // background of the seen image: never pasted
  for (int c = 0; c < 3; ++c)
    anomaly[c].masked_fill_(mask[0] > 0, colour[c]);
  auto o = no_photometric();
  o.p_grid = o.p_elastic = 0.5;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    auto g = gen(seed);
    auto s = aug::extend_anomaly(normal, anomaly, mask, g, o);
    expect_outside_unchanged(s, normal);
    ASSERT_GT(s.mask.sum().item<double>(), 0) << "seed " << seed;
    for (int c = 0; c < 3; ++c)
      EXPECT_LT(max_abs(s.image[c].masked_select(s.mask[0] > 0) - colour[c]), 1e-5) << "seed " << seed;
  }
}

TEST(ExtendedAnomaly, PhotometricWithinBounds) {
  auto normal = random_image(64, 64, 21);
  auto mask = f_mask(64, 64, 20, 20);
  auto anomaly = torch::full({3, 64, 64}, 0.5f);
  aug::ExtendedOptions o; // defaults: brightness 0.2, contrast, hue, blur on; noise off
  o.p_noise = 0;
  o.p_blur = 1;
  std::set<float> values;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto g = gen(seed);
    auto s = aug::extend_anomaly(normal, anomaly, mask, g, o);
    expect_outside_unchanged(s, normal);
    auto in = s.mask[0] > 0;
    auto r = s.image[0].masked_select(in), gch = s.image[1].masked_select(in);
    EXPECT_GE(r.min().item<float>(), 0.4f - 1e-5f);
    EXPECT_LE(r.max().item<float>(), 0.6f + 1e-5f);
    EXPECT_LT(max_abs(r - gch), 1e-5) << "grey stays grey under hue shifts";
    values.insert(r[0].item<float>());
  }
  EXPECT_GT(values.size(), 10u) << "brightness varies";
}

TEST(ExtendedAnomaly, IdentityGeometryReproducesTheSeenDefect) {
  auto normal = random_image(64, 64, 22), anomaly = random_image(64, 64, 23);
  auto mask = f_mask(64, 64, 10, 40);
  auto o = geometry_only(0, 0);
  o.shift = 0;
  auto g = gen(1);
  auto s = aug::extend_anomaly(normal, anomaly, mask, g, o);
  EXPECT_TRUE(torch::equal(s.mask, mask));
  auto in = (mask > 0).expand_as(normal);
  EXPECT_LT(max_abs(s.image.masked_select(in) - anomaly.masked_select(in)), 1e-4);
  expect_outside_unchanged(s, normal);
}

TEST(ExtendedAnomaly, FlipsAndQuarterTurnsMoveImageAndMaskTogether) {
  auto normal = random_image(64, 64, 24), anomaly = random_image(64, 64, 25);
  auto mask = f_mask(64, 64, 26, 28);
  auto shape = crop_to_mask(mask, mask), texture = crop_to_mask(anomaly * mask, mask);
  auto which = [](const torch::Tensor &x, const std::vector<torch::Tensor> &cands) {
    for (size_t i = 0; i < cands.size(); ++i)
      if (x.sizes() == cands[i].sizes() && torch::equal(x, cands[i]))
        return static_cast<int>(i);
    return -1;
  };
  for (int mode = 0; mode < 2; ++mode) {
    std::vector<torch::Tensor> shapes, textures;
    if (mode == 0) // flips
      for (auto dims : std::vector<std::vector<int64_t>>{{}, {2}, {1}, {1, 2}}) {
        shapes.push_back(dims.empty() ? shape : shape.flip(dims));
        textures.push_back(dims.empty() ? texture : texture.flip(dims));
      }
    else // quarter turns only
      for (int64_t k = 1; k <= 3; ++k) {
        shapes.push_back(torch::rot90(shape, k, {1, 2}));
        textures.push_back(torch::rot90(texture, k, {1, 2}));
      }
    auto o = mode == 0 ? geometry_only(0.5, 0) : geometry_only(0, 1);
    std::set<int> seen;
    for (uint64_t seed = 0; seed < 40; ++seed) {
      auto g = gen(seed);
      auto s = aug::extend_anomaly(normal, anomaly, mask, g, o);
      expect_outside_unchanged(s, normal);
      const int k = which(crop_to_mask(s.mask, s.mask), shapes);
      ASSERT_GE(k, 0) << "mode " << mode << " seed " << seed << ": not a flip / turn of the seen shape";
      seen.insert(k);
      auto got = crop_to_mask(s.image * s.mask, s.mask);
      EXPECT_LT(max_abs(got - textures[static_cast<size_t>(k)]), 1e-4) << "image follows the mask, seed " << seed;
    }
    EXPECT_EQ(seen.size(), shapes.size()) << "mode " << mode;
  }
}

TEST(ExtendedAnomaly, ScaleChangesTheArea) {
  auto normal = random_image(96, 96, 26), anomaly = random_image(96, 96, 27);
  auto mask = f_mask(96, 96, 40, 40);
  const double area = mask.sum().item<double>();
  for (double scale : {0.5, 2.0}) {
    auto o = geometry_only(0.5, 0.5);
    o.scale_min = o.scale_max = scale;
    o.rotate_deg = 30;
    auto g = gen(3);
    auto s = aug::extend_anomaly(normal, anomaly, mask, g, o);
    expect_outside_unchanged(s, normal);
    const double ratio = s.mask.sum().item<double>() / area;
    EXPECT_GT(ratio, 0.75 * scale * scale) << "scale " << scale;
    EXPECT_LT(ratio, 1.3 * scale * scale) << "scale " << scale;
  }
}

TEST(ExtendedAnomaly, ShiftSpreadsPositionsInsideTheImage) {
  auto normal = random_image(64, 64, 34), anomaly = random_image(64, 64, 35);
  auto mask = f_mask(64, 64, 10, 40); // 12 x 9, top-left (10, 40)
  for (double shift : {0.1, 1.0}) {
    auto o = geometry_only(0, 0);
    o.shift = shift;
    std::vector<int64_t> tops, lefts;
    for (uint64_t seed = 0; seed < 60; ++seed) {
      auto g = gen(seed);
      auto s = aug::extend_anomaly(normal, anomaly, mask, g, o);
      expect_outside_unchanged(s, normal);
      ASSERT_EQ(s.mask.sum().item<double>(), mask.sum().item<double>()) << "the whole region stays inside";
      auto rows = torch::nonzero(s.mask[0].any(1)), cols = torch::nonzero(s.mask[0].any(0));
      tops.push_back(rows[0][0].item<int64_t>());
      lefts.push_back(cols[0][0].item<int64_t>());
    }
    const auto [tmin, tmax] = std::minmax_element(tops.begin(), tops.end());
    const auto [lmin, lmax] = std::minmax_element(lefts.begin(), lefts.end());
    if (shift < 0.5) { // within 0.1 x 64 = 6.4 px of the seen position
      EXPECT_GE(*tmin, 10 - 7);
      EXPECT_LE(*tmax, 10 + 7);
      EXPECT_GE(*lmin, 40 - 7);
      EXPECT_LE(*lmax, 40 + 7);
      EXPECT_GT(*tmax - *tmin, 6);
    } else { // anywhere, uniformly: spread over the whole range, not piled at the borders
      EXPECT_LE(*tmin, 6);
      EXPECT_GE(*tmax, 64 - 12 - 6);
      EXPECT_LE(*lmin, 6);
      EXPECT_GE(*lmax, 64 - 9 - 6);
      const auto at_border = std::count(tops.begin(), tops.end(), 0) + std::count(tops.begin(), tops.end(), 52);
      EXPECT_LT(at_border, 10);
    }
  }
}

TEST(ExtendedAnomaly, ForegroundRestriction) {
  auto normal = random_image(64, 64, 28), anomaly = random_image(64, 64, 29);
  auto mask = f_mask(64, 64, 26, 28);
  auto fg = torch::zeros({1, 64, 64});
  fg.slice(2, 0, 32).fill_(1);
  int non_empty = 0;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    auto g = gen(seed);
    auto s = aug::extend_anomaly(normal, anomaly, mask, g, {}, fg);
    expect_outside_unchanged(s, normal);
    EXPECT_EQ((s.mask * (1 - fg)).sum().item<double>(), 0.0) << "seed " << seed;
    non_empty += s.mask.sum().item<double>() > 0 ? 1 : 0;
  }
  EXPECT_GE(non_empty, 28);
  auto g = gen(0);
  auto none = aug::extend_anomaly(normal, anomaly, mask, g, {}, torch::zeros({1, 64, 64}));
  EXPECT_EQ(none.mask.sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(none.image, normal));
}

TEST(ExtendedAnomaly, EmptySeenRegionAndOtherSizes) {
  auto normal = random_image(64, 64, 30), anomaly = random_image(80, 96, 31);
  auto g = gen(0);
  auto empty = aug::extend_anomaly(normal, anomaly, torch::zeros({1, 80, 96}), g);
  EXPECT_TRUE(torch::equal(empty.image, normal));
  EXPECT_EQ(empty.mask.sum().item<double>(), 0.0);
  auto one = torch::zeros({1, 80, 96});
  one[0][79][95] = 1; // a single corner pixel, rotated and scaled: still pasted
  for (uint64_t seed = 0; seed < 10; ++seed) {
    auto gs = gen(seed);
    auto s = aug::extend_anomaly(normal, anomaly, one, gs);
    expect_outside_unchanged(s, normal);
    EXPECT_GT(s.mask.sum().item<double>(), 0) << "seed " << seed;
  }
}

TEST(ExtendedAnomaly, DeterministicAndChecked) {
  auto normal = random_image(64, 64, 32), anomaly = random_image(64, 64, 33);
  auto mask = f_mask(64, 64, 20, 20);
  auto a = gen(9), b = gen(9), c = gen(10);
  auto ra = aug::extend_anomaly(normal, anomaly, mask, a), rb = aug::extend_anomaly(normal, anomaly, mask, b);
  auto rc = aug::extend_anomaly(normal, anomaly, mask, c);
  EXPECT_TRUE(torch::equal(ra.image, rb.image) && torch::equal(ra.mask, rb.mask));
  EXPECT_FALSE(torch::equal(ra.image, rc.image));
  EXPECT_PRN_ERROR(aug::extend_anomaly(normal, anomaly, torch::zeros({1, 32, 32}), a), "anomaly mask",
                   "(1, 64, 64)", "[1, 32, 32]");
  EXPECT_PRN_ERROR(aug::extend_anomaly(normal, anomaly, mask, a, {}, torch::zeros({64, 64})), "foreground",
                   "[64, 64]");
  aug::ExtendedOptions bad;
  bad.scale_min = 2;
  bad.scale_max = 1;
  EXPECT_PRN_ERROR(aug::extend_anomaly(normal, anomaly, mask, a, bad), "scale_min <= scale_max", "2", "1");
}

// ---- threads -------------------------------------------------------------

TEST(Augment, ThreadsGiveTheSequentialResults) {
  auto normal = random_image(128, 128, 40), anomaly = random_image(128, 128, 41);
  auto mask = f_mask(128, 128, 50, 60);
  auto run = [&](uint64_t seed) {
    auto g = gen(seed);
    auto e = aug::extend_anomaly(normal, anomaly, mask, g);
    auto s = aug::simulate_anomaly(normal, anomaly, g);
    return torch::cat({e.image, e.mask, s.image, s.mask});
  };
  std::vector<torch::Tensor> seq(8), par(8);
  for (uint64_t i = 0; i < 8; ++i)
    seq[i] = run(i);
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t i = t; i < 8; i += 4)
        par[i] = run(i);
    });
  for (auto &th : threads)
    th.join();
  for (size_t i = 0; i < 8; ++i)
    EXPECT_TRUE(torch::equal(seq[i], par[i])) << "seed " << i;
}

} // namespace
