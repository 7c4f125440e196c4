// Post-processing ops: topk_mean, threshold_runs, colormap_blend. CPU twins
// against references built here (at::topk, a plain loop over the rows, the
// colour-map formulas); CUDA kernels against the CPU twins (skipped without a
// CUDA device; scripts/device-check.sh runs OpsPostCuda.*).
#include "prn/ops/colormap_blend.h"
#include "prn/ops/threshold_runs.h"
#include "prn/ops/topk_mean.h"
#include "prn/postprocess.h"
#include "prn/stream/region_tracker.h"
#include "test_util.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace {

using prn::ops::Colormap;
using prn::ops::ColormapBlendOptions;
using prn::stream::PixelFormat;

at::Tensor topk_reference(const at::Tensor &maps, int64_t k) {
  auto flat = maps.reshape({maps.size(0), -1}).to(at::kDouble);
  return std::get<0>(flat.topk(std::min(k, flat.size(1)), 1)).mean(1).to(at::kFloat);
}

// (row, x0, x1, peak) of every run, by a plain scan: a pixel is hot when >= t;
// a run starts where a hot pixel follows a cold one or the row's start.
struct RunRef {
  int64_t row, x0, x1;
  float peak;
};
std::vector<RunRef> runs_reference(const at::Tensor &rows, float t) {
  std::vector<RunRef> out;
  auto a = rows.accessor<float, 2>();
  for (int64_t r = 0; r < rows.size(0); ++r)
    for (int64_t x = 0; x < rows.size(1); ++x) {
      const bool hot = a[r][x] >= t, prev = x > 0 && a[r][x - 1] >= t;
      if (hot && !prev)
        out.push_back({r, x, x, a[r][x]});
      else if (hot) {
        out.back().x1 = x;
        out.back().peak = std::fmax(out.back().peak, a[r][x]);
      }
    }
  return out;
}

std::vector<RunRef> runs_of(const std::tuple<at::Tensor, at::Tensor> &op) {
  const at::Tensor runs = std::get<0>(op).cpu(), peaks = std::get<1>(op).cpu();
  EXPECT_EQ(runs.scalar_type(), at::kLong);
  EXPECT_EQ(runs.dim(), 2);
  EXPECT_EQ(runs.size(1), 3);
  EXPECT_EQ(peaks.size(0), runs.size(0));
  std::vector<RunRef> out;
  for (int64_t i = 0; i < runs.size(0); ++i)
    out.push_back({runs[i][0].item<int64_t>(), runs[i][1].item<int64_t>(), runs[i][2].item<int64_t>(),
                   peaks[i].item<float>()});
  return out;
}

void expect_same_runs(const std::vector<RunRef> &got, const std::vector<RunRef> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].row, want[i].row) << "run " << i;
    EXPECT_EQ(got[i].x0, want[i].x0) << "run " << i;
    EXPECT_EQ(got[i].x1, want[i].x1) << "run " << i;
    EXPECT_EQ(got[i].peak, want[i].peak) << "run " << i;
  }
}

// Colour of jet at index i from MATLAB's formula; turbo from Mikhailov's polynomials.
std::array<int, 3> jet_colour(int i) {
  const double t = i / 255.0;
  std::array<int, 3> c{};
  const double centre[3] = {3.0, 2.0, 1.0};
  for (int k = 0; k < 3; ++k)
    c[k] = static_cast<int>(std::lround(std::clamp(1.5 - std::fabs(4.0 * t - centre[k]), 0.0, 1.0) * 255.0));
  return c;
}

// The frame after prnoverlay's blend, pixel by pixel (formula of docs/ops.md).
at::Tensor blend_reference(at::Tensor frame, const at::Tensor &heat, std::array<int, 3> rgb_offsets,
                           const ColormapBlendOptions &o) {
  frame = frame.clone();
  auto f = frame.accessor<uint8_t, 3>();
  auto h = heat.accessor<float, 2>();
  const int64_t H = frame.size(0), W = frame.size(1), hh = heat.size(0), hw = heat.size(1);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const int64_t col = std::min<int64_t>(static_cast<int64_t>(std::floor(x / o.scale_x)), hw - 1);
      const int64_t row = hh == H ? y : std::min(y * hh / H, hh - 1);
      const double s = h[row][col];
      if (!(s >= o.min_score))
        continue;
      const int i = static_cast<int>(std::lround(std::min((s - o.min_score) / (1.0 - o.min_score), 1.0) * 255.0));
      if (i == 0)
        continue;
      const int w = static_cast<int>(std::lround(o.alpha * i / 255.0 * 256.0));
      const auto colour = jet_colour(i);
      for (int k = 0; k < 3; ++k) {
        uint8_t &v = f[y][x][rgb_offsets[k]];
        v = static_cast<uint8_t>((v * (256 - w) + colour[k] * w + 128) >> 8);
      }
    }
  return frame;
}

at::Tensor random_frame(int64_t H, int64_t W, int64_t C, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(0, 256, {H, W, C}, gen, at::TensorOptions().dtype(at::kByte));
}

} // namespace

TEST(OpsPost, TopkMeanMatchesAtTopk) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor maps = at::randn({5, 1, 17, 23}, gen);
  for (int64_t k : {1, 7, 100, 17 * 23}) {
    const at::Tensor got = prn::ops::topk_mean(maps, k);
    EXPECT_EQ(got.sizes(), (at::IntArrayRef{5}));
    EXPECT_TRUE(at::allclose(got, topk_reference(maps, k), 1e-6, 1e-6)) << "k = " << k;
  }
  // (B, H, W) and a non-contiguous view score the same.
  const at::Tensor squeezed = maps.squeeze(1).transpose(1, 2);
  EXPECT_TRUE(at::allclose(prn::ops::topk_mean(squeezed, 9), topk_reference(squeezed, 9), 1e-6, 1e-6));
}

TEST(OpsPost, TopkMeanTiesKLargerThanPixelsNaN) {
  // Three 2s tie at the k-th place: k = 3 takes the 5 and two of them.
  const at::Tensor m = at::tensor({5.f, 2.f, 2.f, 2.f, -1.f, 0.f, -0.f, 1.f}).reshape({1, 2, 4});
  EXPECT_FLOAT_EQ(prn::ops::topk_mean(m, 3).item<float>(), 3.f);
  EXPECT_FLOAT_EQ(prn::ops::topk_mean(m, 6).item<float>(), (5 + 2 + 2 + 2 + 1 + 0) / 6.f);
  // All equal; k beyond the 8 pixels is clamped.
  EXPECT_FLOAT_EQ(prn::ops::topk_mean(at::full({1, 1, 2, 4}, -0.25f), 5).item<float>(), -0.25f);
  EXPECT_FLOAT_EQ(prn::ops::topk_mean(m, 1000).item<float>(), topk_reference(m, 1000).item<float>());
  EXPECT_FLOAT_EQ(prn::ops::topk_mean(m, 1000).item<float>(), 11.f / 8);
  // Infinities; a NaN counts as the largest value (as at::topk).
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(prn::ops::topk_mean(at::tensor({-inf, 1.f, inf}).reshape({1, 1, 3}), 2).item<float>(), inf);
  const at::Tensor nan_map = at::tensor({1.f, std::nanf(""), 3.f}).reshape({1, 1, 3});
  EXPECT_TRUE(std::isnan(prn::ops::topk_mean(nan_map, 1).item<float>()));
  EXPECT_TRUE(std::isnan(topk_reference(nan_map, 1).item<float>()));
  // One image per row of a batch with quantised scores (many ties).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const at::Tensor q = at::randint(0, 5, {4, 9, 9}, gen).to(at::kFloat) / 4;
  EXPECT_TRUE(at::allclose(prn::ops::topk_mean(q, 20), topk_reference(q, 20), 1e-6, 1e-6));
}

TEST(OpsPost, ImageScoresIsTopkMean) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  const at::Tensor maps = at::rand({3, 1, 8, 8}, gen);
  EXPECT_TRUE(at::equal(prn::image_scores(maps, 10), prn::ops::topk_mean(maps, 10)));
  EXPECT_TRUE(at::equal(prn::image_scores(maps.to(at::kDouble), 10), prn::ops::topk_mean(maps, 10)));
}

TEST(OpsPost, TopkMeanBadInputs) {
  EXPECT_TORCH_ERROR(prn::ops::topk_mean(at::zeros({2, 3, 4, 4}), 5), "expected maps of shape (B, 1, H, W) or (B, H, W)",
                  "got [2, 3, 4, 4]");
  EXPECT_TORCH_ERROR(prn::ops::topk_mean(at::zeros({2, 4, 4}, at::kDouble), 5), "expected float32 maps", "Double");
  EXPECT_TORCH_ERROR(prn::ops::topk_mean(at::zeros({2, 4, 4}), 0), "expected k >= 1, got 0");
  EXPECT_TORCH_ERROR(prn::ops::topk_mean(at::zeros({2, 0, 4}), 3), "expected maps with at least one pixel",
                  "got [2, 0, 4]");
  EXPECT_EQ(prn::ops::topk_mean(at::zeros({0, 4, 4}), 3).sizes(), (at::IntArrayRef{0}));
}

TEST(OpsPost, ThresholdRunsMatchLoop) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  at::Tensor rows = at::rand({13, 37}, gen);
  rows[2].fill_(0.9f); // one run over the whole row
  rows[3].zero_();     // no run
  rows[4].fill_(0.6f); // every pixel equal to the threshold: hot
  expect_same_runs(runs_of(prn::ops::threshold_runs(rows, 0.6f)), runs_reference(rows, 0.6f));
  expect_same_runs(runs_of(prn::ops::threshold_runs(rows, 2.f)), {});
  // A non-contiguous view.
  const at::Tensor t = rows.t();
  expect_same_runs(runs_of(prn::ops::threshold_runs(t, 0.5f)), runs_reference(t.contiguous(), 0.5f));
}

TEST(OpsPost, ThresholdRunsEdgesEmptyRowsWidthOneNaN) {
  const float nan = std::nanf("");
  const at::Tensor rows = at::tensor({0.9f, 0.f, 0.f, 0.7f, /**/ 0.f, 0.f, 0.f, 0.f, /**/ 0.5f, 0.8f, 0.6f, 0.5f,
                                      /**/ 0.8f, nan, 0.9f, 0.f})
                              .reshape({4, 4});
  expect_same_runs(runs_of(prn::ops::threshold_runs(rows, 0.5f)),
                   {{0, 0, 0, 0.9f}, {0, 3, 3, 0.7f}, {2, 0, 3, 0.8f}, {3, 0, 0, 0.8f}, {3, 2, 2, 0.9f}});
  const at::Tensor column = at::tensor({0.9f, 0.1f, 0.9f, 0.95f}).reshape({4, 1});
  expect_same_runs(runs_of(prn::ops::threshold_runs(column, 0.5f)),
                   {{0, 0, 0, 0.9f}, {2, 0, 0, 0.9f}, {3, 0, 0, 0.95f}});
  auto [runs, peaks] = prn::ops::threshold_runs(at::zeros({0, 5}), 0.5f);
  EXPECT_EQ(runs.sizes(), (at::IntArrayRef{0, 3}));
  EXPECT_EQ(peaks.sizes(), (at::IntArrayRef{0}));
}

TEST(OpsPost, ThresholdRunsBadInputs) {
  EXPECT_TORCH_ERROR(prn::ops::threshold_runs(at::zeros({5}), 0.5f), "expected rows of shape (n, W)", "got [5]");
  EXPECT_TORCH_ERROR(prn::ops::threshold_runs(at::zeros({2, 5}, at::kHalf), 0.5f), "expected float32 rows", "Half");
}

TEST(OpsPost, ColormapBlendMatchesFormulaInEveryFormat) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
  // A heatmap of 5 rows for 12 frame rows, 2.5 frame columns per cell.
  const at::Tensor heat = at::rand({5, 8}, gen) * 1.2 - 0.1;
  ColormapBlendOptions o;
  o.alpha = 0.7;
  o.min_score = 0.2;
  o.scale_x = 2.5;
  struct Case {
    PixelFormat format;
    int bytes;
    std::array<int, 3> rgb;
  };
  const Case cases[] = {{PixelFormat::RGB, 3, {0, 1, 2}},  {PixelFormat::BGR, 3, {2, 1, 0}},
                        {PixelFormat::RGBx, 4, {0, 1, 2}}, {PixelFormat::BGRx, 4, {2, 1, 0}},
                        {PixelFormat::RGBA, 4, {0, 1, 2}}, {PixelFormat::BGRA, 4, {2, 1, 0}}};
  for (const Case &c : cases) {
    const at::Tensor frame = random_frame(12, 21, c.bytes, 9);
    const at::Tensor want = blend_reference(frame, heat, c.rgb, o);
    at::Tensor got = frame.clone();
    prn::ops::colormap_blend_(got, heat, c.format, o);
    EXPECT_TRUE(at::equal(got, want)) << "format " << static_cast<int>(c.format);
    EXPECT_FALSE(at::equal(got, frame)) << "something is drawn";
    if (c.bytes == 4) {
      EXPECT_TRUE(at::equal(got.select(2, 3), frame.select(2, 3))) << "the padding/alpha byte stays";
    }
  }
  // The frame a view of a wider buffer: the bytes around it stay.
  at::Tensor buffer = random_frame(12, 30, 4, 10);
  const at::Tensor before = buffer.clone();
  at::Tensor view = buffer.narrow(1, 5, 21);
  prn::ops::colormap_blend_(view, heat, PixelFormat::BGRx, o);
  EXPECT_TRUE(at::equal(view, blend_reference(before.narrow(1, 5, 21), heat, {2, 1, 0}, o)));
  EXPECT_TRUE(at::equal(buffer.narrow(1, 0, 5), before.narrow(1, 0, 5)));
  EXPECT_TRUE(at::equal(buffer.narrow(1, 26, 4), before.narrow(1, 26, 4)));
}

TEST(OpsPost, ColormapBlendFloorAlphaAndColormaps) {
  // Full opacity at score 1 paints the hottest colour; min_score and below stay.
  const at::Tensor heat = at::tensor({1.f, 0.3f, 0.2f, -5.f}).reshape({1, 4});
  at::Tensor frame = at::full({1, 4, 3}, 100, at::kByte);
  ColormapBlendOptions o;
  o.alpha = 1.0;
  o.min_score = 0.3;
  prn::ops::colormap_blend_(frame, heat, PixelFormat::RGB, o);
  EXPECT_EQ(frame[0][0][0].item<int>(), 128); // jet at 1.0 is (0.5, 0, 0)
  EXPECT_EQ(frame[0][0][1].item<int>(), 0);
  EXPECT_TRUE(at::equal(frame.narrow(1, 1, 3), at::full({1, 3, 3}, 100, at::kByte)));
  // Alpha 0 and min_score >= 1 draw nothing.
  at::Tensor untouched = at::full({2, 4, 3}, 100, at::kByte);
  o.alpha = 0.0;
  prn::ops::colormap_blend_(untouched, heat.expand({2, 4}), PixelFormat::RGB, o);
  o.alpha = 1.0;
  o.min_score = 1.0;
  prn::ops::colormap_blend_(untouched, heat.expand({2, 4}), PixelFormat::RGB, o);
  EXPECT_TRUE(at::equal(untouched, at::full({2, 4, 3}, 100, at::kByte)));
  // Jet's table is the formula's; inferno and turbo end where matplotlib's
  // tables and Mikhailov's polynomial do (inferno is a fit: within 6 levels).
  const auto &jet = prn::ops::colormap_lut(Colormap::Jet);
  for (int i = 0; i < 256; ++i)
    for (int k = 0; k < 3; ++k)
      ASSERT_EQ(jet[i * 3 + k], jet_colour(i)[k]) << "jet entry " << i;
  const auto &inferno = prn::ops::colormap_lut(Colormap::Inferno);
  const int inferno_want[3][4] = {{0, 0, 0, 4}, {128, 188, 55, 84}, {255, 252, 255, 164}};
  for (const auto &w : inferno_want)
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(inferno[w[0] * 3 + k], w[k + 1], 6) << "inferno entry " << w[0];
  const auto &turbo = prn::ops::colormap_lut(Colormap::Turbo);
  EXPECT_EQ(turbo[255 * 3 + 0], 144); // r(1) = 0.5659
  EXPECT_EQ(turbo[255 * 3 + 1], 13);  // g(1) = 0.0504
  EXPECT_EQ(turbo[255 * 3 + 2], 0);   // b(1) < 0, clamped
  EXPECT_EQ(turbo[0], 35);            // r(0) = 0.1357
}

TEST(OpsPost, ColormapBlendBadInputs) {
  const at::Tensor heat = at::zeros({2, 2});
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 3}, at::kByte), heat, PixelFormat::BGRx),
                  "expected a frame of shape (H, W, 4)", "got [2, 2, 3]");
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 3}), heat, PixelFormat::RGB), "expected a uint8 frame",
                  "Float");
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({3, 2, 2}, at::kByte).permute({1, 2, 0}), heat,
                                            PixelFormat::RGB),
                  "expected packed pixels", "got strides");
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 3}, at::kByte), at::zeros({2, 2}, at::kDouble),
                                            PixelFormat::RGB),
                  "expected a float32 heatmap", "Double");
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 3}, at::kByte), at::zeros({0, 2}), PixelFormat::RGB),
                  "expected a non-empty heatmap", "got [0, 2]");
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 1}, at::kByte), heat, PixelFormat::Gray8),
                  "expected an RGB-family pixel format", "got GRAY8");
  ColormapBlendOptions o;
  o.alpha = 1.5;
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 3}, at::kByte), heat, PixelFormat::RGB, o),
                  "expected alpha in [0, 1], got 1.5");
  o.alpha = 0.5;
  o.scale_x = 0.0;
  EXPECT_TORCH_ERROR(prn::ops::colormap_blend_(at::zeros({2, 2, 3}, at::kByte), heat, PixelFormat::RGB, o),
                  "expected a finite scale_x > 0, got 0");
}

// ---- CUDA kernels against the CPU twins ----

TEST(OpsPostCuda, TopkMeanMatchesCpuTwin) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const at::Tensor maps = at::randn({7, 1, 256, 256}, gen);
  const at::Tensor ties = at::randint(0, 6, {5, 64, 64}, gen).to(at::kFloat) / 5 - 0.5;
  for (int64_t k : {1, 10, 100, 4096, 70000}) {
    EXPECT_TRUE(at::allclose(prn::ops::topk_mean(maps.cuda(), k).cpu(), prn::ops::topk_mean(maps, k), 1e-6, 1e-6))
        << "k = " << k;
    EXPECT_TRUE(at::allclose(prn::ops::topk_mean(ties.cuda(), k).cpu(), prn::ops::topk_mean(ties, k), 1e-6, 1e-6))
        << "ties, k = " << k;
  }
  const at::Tensor special = at::tensor({-0.f, 0.f, -3.f, std::numeric_limits<float>::infinity(), 2.f, 2.f})
                                 .reshape({2, 1, 1, 3});
  EXPECT_TRUE(at::equal(prn::ops::topk_mean(special.cuda(), 2).cpu(), prn::ops::topk_mean(special, 2)));
  EXPECT_TRUE(at::allclose(prn::image_scores(maps.cuda(), 50).cpu(), prn::ops::topk_mean(maps, 50), 1e-6, 1e-6));
}

TEST(OpsPostCuda, ThresholdRunsMatchCpuTwin) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  auto gen = at::make_generator<at::CPUGeneratorImpl>(12);
  at::Tensor rows = at::rand({300, 4099}, gen);
  rows[0].fill_(0.9f);                                      // one run across every thread's chunk
  rows[1].zero_();                                          // none
  rows[2].copy_(at::arange(4099).remainder(2).to(at::kFloat)); // alternate: 2049 runs
  for (float t : {0.5f, 0.95f, 2.f})
    expect_same_runs(runs_of(prn::ops::threshold_runs(rows.cuda(), t)), runs_of(prn::ops::threshold_runs(rows, t)));
  const at::Tensor column = at::rand({50, 1}, gen);
  expect_same_runs(runs_of(prn::ops::threshold_runs(column.cuda(), 0.5f)),
                   runs_of(prn::ops::threshold_runs(column, 0.5f)));
  // RegionTracker on CUDA rows finds what it finds on CPU rows.
  const at::Tensor web = (at::rand({64, 512}, gen) > 0.97).to(at::kFloat);
  prn::stream::RegionTracker on_cpu(0.5f, 16), on_gpu(0.5f, 16);
  on_cpu.add_rows(web);
  on_gpu.add_rows(web.cuda());
  on_cpu.finish();
  on_gpu.finish();
  const auto a = on_cpu.take_ended(1000), b = on_gpu.take_ended(1000);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(a[i].x == b[i].x && a[i].y == b[i].y && a[i].width == b[i].width && a[i].height == b[i].height &&
                a[i].area == b[i].area && a[i].peak == b[i].peak)
        << "region " << i;
}

TEST(OpsPostCuda, ColormapBlendMatchesCpuTwin) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  auto gen = at::make_generator<at::CPUGeneratorImpl>(13);
  const at::Tensor heat = at::rand({64, 300}, gen) * 1.2 - 0.1;
  ColormapBlendOptions o;
  o.alpha = 0.8;
  o.min_score = 0.25;
  o.scale_x = 4.0 / 3.0;
  for (Colormap map : {Colormap::Jet, Colormap::Inferno, Colormap::Turbo})
    for (auto [format, bytes] : {std::pair{PixelFormat::RGB, 3}, std::pair{PixelFormat::BGRx, 4},
                                 std::pair{PixelFormat::BGRA, 4}}) {
      o.colormap = map;
      const at::Tensor frame = random_frame(200, 410, bytes, 14);
      at::Tensor cpu = frame.clone(), gpu = frame.cuda();
      prn::ops::colormap_blend_(cpu, heat, format, o);
      prn::ops::colormap_blend_(gpu, heat.cuda(), format, o);
      EXPECT_TRUE(at::equal(gpu.cpu(), cpu)) << "colormap " << static_cast<int>(map) << " format "
                                             << static_cast<int>(format);
    }
  // A view of a wider buffer on the device.
  at::Tensor buffer = random_frame(200, 420, 4, 15);
  at::Tensor gpu_buffer = buffer.cuda();
  at::Tensor gpu_view = gpu_buffer.narrow(1, 7, 410);
  at::Tensor cpu_view = buffer.narrow(1, 7, 410);
  prn::ops::colormap_blend_(gpu_view, heat.cuda(), PixelFormat::RGBA, o);
  prn::ops::colormap_blend_(cpu_view, heat, PixelFormat::RGBA, o);
  EXPECT_TRUE(at::equal(gpu_buffer.cpu(), buffer));
}
