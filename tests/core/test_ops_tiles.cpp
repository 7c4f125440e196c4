// The tile ops (tiles_from_rows, stitch_tiles_): their CPU twins against the
// plain ATen calls the line scanner made before them, their CUDA kernels against
// the CPU twins, and the scanner on a GPU against the scanner on the CPU. The
// CUDA tests skip where LibTorch sees no CUDA device (scripts/device-check.sh
// runs them on a lent GPU).
#include "prn/ops/stitch_tiles.h"
#include "prn/ops/tiles_from_rows.h"
#include "prn/stream/line_scanner.h"
#include "prn/stream/pixels.h"
#include "test_util.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

using prn::stream::PixelFormat;
namespace F = torch::nn::functional;

namespace {

const std::vector<PixelFormat> kFormats{PixelFormat::Gray8, PixelFormat::Gray16LE, PixelFormat::RGB,
                                        PixelFormat::BGR,   PixelFormat::RGBx,     PixelFormat::BGRx,
                                        PixelFormat::RGBA,  PixelFormat::BGRA};

// (tile, model side): equal, shrinking by 1.5 and 2.5, growing by 0.75.
const std::vector<std::pair<int64_t, int64_t>> kSides{{16, 16}, {24, 16}, {40, 16}, {12, 16}};

// Random packed rows with `pad` spare bytes at the end of each row.
torch::Tensor packed_rows(int64_t rows, int64_t width, PixelFormat f, int64_t pad, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 256, {rows, width * prn::stream::bytes_per_pixel(f) + pad}, torch::kUInt8);
}

torch::Tensor origins_of(const std::vector<std::pair<int64_t, int64_t>> &yx) {
  torch::Tensor o = torch::empty({static_cast<int64_t>(yx.size()), 2}, torch::kInt64);
  for (size_t i = 0; i < yx.size(); ++i) {
    o[static_cast<int64_t>(i)][0] = yx[i].first;
    o[static_cast<int64_t>(i)][1] = yx[i].second;
  }
  return o;
}

// What the scanner did before the op: rows_to_rgb8, a band of T rows and crops
// of T columns, padded by repeating the last row / column, stacked, scaled and
// resized with F::interpolate (bilinear, antialias) when T != S.
torch::Tensor aten_tiles(const torch::Tensor &packed, PixelFormat f, int64_t width,
                         const std::vector<std::pair<int64_t, int64_t>> &yx, int64_t T, int64_t S) {
  const torch::Tensor rgb = prn::stream::rows_to_rgb8(packed.data_ptr(), width, packed.size(0), packed.size(1), f);
  std::vector<torch::Tensor> crops;
  for (const auto &[y, x] : yx) {
    torch::Tensor band = rgb.narrow(0, y, std::min(T, rgb.size(0) - y));
    if (band.size(0) < T)
      band = torch::cat({band, band.narrow(0, band.size(0) - 1, 1).expand({T - band.size(0), width, 3})});
    torch::Tensor c = band.narrow(1, x, std::min(T, width - x));
    if (c.size(1) < T)
      c = torch::cat({c, c.narrow(1, c.size(1) - 1, 1).expand({T, T - c.size(1), 3})}, 1);
    crops.push_back(c);
  }
  torch::Tensor t = torch::stack(crops).permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0);
  if (T != S)
    t = F::interpolate(t, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{S, S})
                              .mode(torch::kBilinear)
                              .align_corners(false)
                              .antialias(true));
  return t.contiguous();
}

// What the scanner did before the op: maps resized to T x T (bilinear), and for
// each tile the part inside acc added, times the window, into acc and weight.
void aten_stitch(const torch::Tensor &maps, const std::vector<std::pair<int64_t, int64_t>> &yx,
                 const torch::Tensor &window, torch::Tensor acc, torch::Tensor weight) {
  const int64_t T = window.size(0), R = acc.size(0), W = acc.size(1);
  torch::Tensor full = maps;
  if (maps.size(2) != T)
    full = F::interpolate(maps, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{T, T})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
  full = full.squeeze(1);
  for (size_t i = 0; i < yx.size(); ++i) {
    const auto [y, x] = yx[i];
    const int64_t r0 = std::max<int64_t>(y, 0), r1 = std::min(y + T, R);
    const int64_t c0 = std::max<int64_t>(x, 0), c1 = std::min(x + T, W);
    if (r1 <= r0 || c1 <= c0)
      continue;
    const torch::Tensor m = full[static_cast<int64_t>(i)].narrow(0, r0 - y, r1 - r0).narrow(1, c0 - x, c1 - c0);
    const torch::Tensor w = window.narrow(0, r0 - y, r1 - r0).narrow(1, c0 - x, c1 - c0);
    acc.narrow(0, r0, r1 - r0).narrow(1, c0, c1 - c0).add_(m * w);
    weight.narrow(0, r0, r1 - r0).narrow(1, c0, c1 - c0).add_(w);
  }
}

float max_diff(const torch::Tensor &a, const torch::Tensor &b) { return (a.cpu() - b.cpu()).abs().max().item<float>(); }

// Tiles at the web's corners, inside it, and over its right and bottom edges.
std::vector<std::pair<int64_t, int64_t>> tile_places(int64_t rows, int64_t width) {
  return {{0, 0}, {3, 5}, {rows - 3, 0}, {0, width - 4}, {rows - 1, width - 1}, {rows / 2, width / 3}};
}

} // namespace

TEST(OpsTiles, TilesFromRowsMatchesTheScannersAtenPath) {
  const int64_t rows = 30, width = 37; // odd; fewer rows than the 40-px tile
  for (PixelFormat f : kFormats) {
    const torch::Tensor packed = packed_rows(rows, width, f, 3, 11);
    const auto yx = tile_places(rows, width);
    for (const auto &[T, S] : kSides) {
      const torch::Tensor got = prn::ops::tiles_from_rows(packed, f, width, origins_of(yx), T, S);
      const torch::Tensor expected = aten_tiles(packed, f, width, yx, T, S);
      ASSERT_EQ(got.sizes(), expected.sizes());
      EXPECT_EQ(got.scalar_type(), torch::kFloat32);
      EXPECT_LE(max_diff(got, expected), 1e-5f) << prn::stream::pixel_format_name(f) << " T " << T << " S " << S;
    }
  }
}

TEST(OpsTiles, TileEqualToModelSideIsAnExactCopy) {
  const torch::Tensor packed = packed_rows(20, 21, PixelFormat::BGRA, 0, 5);
  const auto yx = tile_places(20, 21);
  const torch::Tensor got = prn::ops::tiles_from_rows(packed, PixelFormat::BGRA, 21, origins_of(yx), 16, 16);
  EXPECT_TRUE(torch::equal(got, aten_tiles(packed, PixelFormat::BGRA, 21, yx, 16, 16)));
}

TEST(OpsTiles, NoOriginsGiveAnEmptyBatch) {
  const torch::Tensor packed = packed_rows(4, 8, PixelFormat::RGB, 0, 1);
  const torch::Tensor got = prn::ops::tiles_from_rows(packed, PixelFormat::RGB, 8, torch::empty({0, 2}, torch::kInt64), 8, 16);
  EXPECT_EQ(got.sizes(), (std::vector<int64_t>{0, 3, 16, 16}));
}

TEST(OpsTiles, StitchMatchesTheScannersAtenPath) {
  const int64_t R = 30, W = 37;
  for (const auto &[T, S] : kSides) {
    torch::manual_seed(T);
    // Over the top (the rows before acc are dropped), the right and bottom edges.
    const std::vector<std::pair<int64_t, int64_t>> yx{{-5, 0}, {0, W - T}, {2, W - 3}, {R - 4, 7}, {-T + 1, 9}};
    const torch::Tensor maps = torch::rand({static_cast<int64_t>(yx.size()), 1, S, S});
    const torch::Tensor window = torch::rand({T, T}) + 0.01;
    const torch::Tensor acc0 = torch::rand({R, W}), weight0 = torch::rand({R, W});
    torch::Tensor acc = acc0.clone(), weight = weight0.clone();
    prn::ops::stitch_tiles_(maps, origins_of(yx), window, acc, weight);
    torch::Tensor acc_ref = acc0.clone(), weight_ref = weight0.clone();
    aten_stitch(maps, yx, window, acc_ref, weight_ref);
    EXPECT_LE(max_diff(acc, acc_ref), 1e-5f) << "T " << T << " S " << S;
    EXPECT_LE(max_diff(weight, weight_ref), 1e-5f) << "T " << T << " S " << S;
    EXPECT_GT(max_diff(acc, acc0), 0.f); // something was added
  }
}

TEST(OpsTiles, StitchWritesThroughStridedViewsOnly) {
  const torch::Tensor buffer = torch::zeros({20, 50}), weights = torch::zeros({20, 50});
  torch::Tensor acc = buffer.narrow(1, 10, 30), weight = weights.narrow(1, 10, 30); // rows 50 apart
  const torch::Tensor maps = torch::full({1, 1, 8, 8}, 0.5);
  prn::ops::stitch_tiles_(maps, origins_of({{15, 25}}), torch::ones({8, 8}), acc, weight);
  EXPECT_FLOAT_EQ(buffer.sum().item<float>(), 0.5f * 5 * 5); // rows 15..19, columns 25..29 of acc
  EXPECT_FLOAT_EQ(buffer[15][35].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(buffer[15][34].item<float>(), 0.f);
  EXPECT_FLOAT_EQ(weights.narrow(1, 0, 10).sum().item<float>(), 0.f);
  EXPECT_FLOAT_EQ(weights.narrow(1, 40, 10).sum().item<float>(), 0.f);
}

TEST(OpsTiles, BadInputsAreNamed) {
  const torch::Tensor packed = packed_rows(4, 8, PixelFormat::RGB, 0, 1);
  const torch::Tensor o = origins_of({{0, 0}});
  using prn::ops::tiles_from_rows;
  EXPECT_TORCH_ERROR(tiles_from_rows(packed.to(torch::kFloat32), PixelFormat::RGB, 8, o, 8, 16),
                     "expected rows as a (R, row_bytes) uint8 tensor", "Float");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed.narrow(0, 0, 0), PixelFormat::RGB, 8, o, 8, 16), "at least one row");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed, PixelFormat::RGBA, 8, o, 8, 16), "at least 32 bytes", "RGBA", "got 24");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed, PixelFormat::RGB, 0, o, 8, 16), "width of at least 1", "got 0");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed, PixelFormat::RGB, 8, o.to(torch::kInt32), 8, 16),
                     "expected origins as an (N, 2) int64", "Int");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed, PixelFormat::RGB, 8, torch::zeros({1, 3}, torch::kInt64), 8, 16),
                     "(N, 2)", "[1, 3]");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed, PixelFormat::RGB, 8, o, 0, 16), "tile side", "got 0");
  EXPECT_TORCH_ERROR(tiles_from_rows(packed, PixelFormat::RGB, 8, o, 8, -1), "model input side", "got -1");

  using prn::ops::stitch_tiles_;
  const torch::Tensor maps = torch::rand({1, 1, 8, 8}), win = torch::ones({8, 8});
  torch::Tensor acc = torch::zeros({10, 10}), weight = torch::zeros({10, 10});
  EXPECT_TORCH_ERROR(stitch_tiles_(maps.squeeze(1), o, win, acc, weight), "(N, 1, S, S) float32", "[1, 8, 8]");
  EXPECT_TORCH_ERROR(stitch_tiles_(maps.to(torch::kFloat64), o, win, acc, weight), "(N, 1, S, S) float32",
                     "Double");
  EXPECT_TORCH_ERROR(stitch_tiles_(maps, origins_of({{0, 0}, {1, 1}}), win, acc, weight), "(1, 2) int64",
                     "[2, 2]");
  EXPECT_TORCH_ERROR(stitch_tiles_(maps, o, torch::ones({8, 6}), acc, weight), "(T, T) float32", "[8, 6]");
  EXPECT_TORCH_ERROR(stitch_tiles_(maps, o, win, acc.view({100}), weight), "(R, W) float32", "[100]");
  EXPECT_TORCH_ERROR(stitch_tiles_(maps, o, win, acc, torch::zeros({10, 9})), "[10, 10] float32 tensor like acc",
                     "[10, 9]");
  EXPECT_EQ(acc.abs().sum().item<float>(), 0.f); // nothing written on a refusal
}

TEST(OpsTiles, ScannerScoresPackedRowsOfAnyFormatLikeRgb) {
  // The same web as BGRx rows with spare bytes, as camera memory, and as RGB8.
  const int64_t rows = 90, width = 45;
  torch::manual_seed(3);
  const torch::Tensor rgb = torch::randint(0, 256, {rows, width, 3}, torch::kUInt8);
  torch::Tensor bgrx = torch::zeros({rows, width * 4 + 8}, torch::kUInt8);
  bgrx.narrow(1, 0, width * 4).view({rows, width, 4}).narrow(2, 0, 3).copy_(rgb.flip({2}));
  prn::stream::ScannerConfig c;
  c.model_size = 16;
  c.scale = 1.5;
  c.batch = 2;
  c.top_k = 5;
  const auto scorer = [](const torch::Tensor &t) { return t.mean(1, true); };
  prn::stream::LineScanner a(c, width, scorer), b(c, width, scorer);
  for (int64_t r = 0; r < rows; r += 13) {
    const int64_t n = std::min<int64_t>(13, rows - r);
    a.push(rgb.narrow(0, r, n));
    b.push(bgrx.narrow(0, r, n).data_ptr(), n, bgrx.size(1), PixelFormat::BGRx);
  }
  a.finish();
  b.finish();
  const prn::stream::ScoredRows ra = a.take(rows), rb = b.take(rows);
  EXPECT_TRUE(torch::equal(ra.heatmap, rb.heatmap));
  EXPECT_TRUE(torch::equal(ra.row_scores, rb.row_scores));
  EXPECT_PRN_ERROR(b.push(bgrx.narrow(1, 0, 20)), "(rows, " + std::to_string(width) + ", 3)");
  prn::stream::LineScanner d(c, width, scorer);
  d.push(rgb.narrow(0, 0, 2));
  EXPECT_PRN_ERROR(d.push(bgrx.narrow(0, 0, 2), PixelFormat::BGRx), "expected RGB rows as before", "got BGRx");
  EXPECT_PRN_ERROR(d.push(bgrx.data_ptr(), 2, 100, PixelFormat::BGRx), "at least 180 bytes", "stride of 100");
}

// --- CUDA: the kernels against the CPU twins -------------------------------

TEST(OpsTilesCuda, TilesFromRowsMatchesCpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  const int64_t rows = 30, width = 37;
  for (PixelFormat f : kFormats) {
    const torch::Tensor packed = packed_rows(rows, width, f, 5, 17);
    const torch::Tensor o = origins_of(tile_places(rows, width));
    for (const auto &[T, S] : kSides) {
      const torch::Tensor cpu = prn::ops::tiles_from_rows(packed, f, width, o, T, S);
      const torch::Tensor gpu = prn::ops::tiles_from_rows(packed.cuda(), f, width, o.cuda(), T, S);
      EXPECT_TRUE(gpu.is_cuda());
      EXPECT_LE(max_diff(gpu, cpu), 1e-5f) << prn::stream::pixel_format_name(f) << " T " << T << " S " << S;
    }
  }
  EXPECT_TORCH_ERROR(prn::ops::tiles_from_rows(packed_rows(4, 8, PixelFormat::RGB, 0, 1).cuda(), PixelFormat::RGB, 8,
                                               origins_of({{0, 0}}), 8, 16),
                     "expected origins on the rows' device");
}

TEST(OpsTilesCuda, StitchMatchesCpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  const int64_t R = 30, W = 37;
  for (const auto &[T, S] : kSides) {
    torch::manual_seed(T + 100);
    const torch::Tensor o = origins_of({{-5, 0}, {0, W - T}, {2, W - 3}, {R - 4, 7}, {-T + 1, 9}});
    const torch::Tensor maps = torch::rand({5, 1, S, S}), window = torch::rand({T, T}) + 0.01;
    // Strided views on the GPU, as the scanner's row windows are.
    const torch::Tensor acc0 = torch::rand({R, W + 6}).narrow(1, 3, W), weight0 = torch::rand({R, W});
    torch::Tensor acc = acc0.clone(), weight = weight0.clone();
    prn::ops::stitch_tiles_(maps, o, window, acc, weight);
    torch::Tensor acc_gpu = torch::rand({R, W + 6}).cuda().narrow(1, 3, W), weight_gpu = weight0.cuda();
    acc_gpu.copy_(acc0);
    prn::ops::stitch_tiles_(maps.cuda(), o.cuda(), window.cuda(), acc_gpu, weight_gpu);
    EXPECT_LE(max_diff(acc_gpu, acc), 1e-5f) << "T " << T << " S " << S;
    EXPECT_LE(max_diff(weight_gpu, weight), 1e-5f) << "T " << T << " S " << S;
  }
}

TEST(OpsTilesCuda, ScannerOnTheGpuMatchesTheCpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  const int64_t rows = 300, width = 203;
  torch::manual_seed(9);
  torch::Tensor packed = torch::randint(0, 90, {rows, width * 4 + 4}, torch::kUInt8); // BGRA, spare bytes
  packed.narrow(0, 140, 9).narrow(1, 4 * 60, 4 * 12).fill_(240);                       // a defect
  prn::stream::ScannerConfig c;
  c.model_size = 32;
  c.scale = 1.5;
  c.batch = 4;
  c.top_k = 10;
  c.pixel_threshold = 0.5f;
  std::vector<torch::Device> seen;
  const auto scorer = [&seen](const torch::Tensor &t) {
    seen.push_back(t.device());
    return torch::sigmoid((t.mean(1, true) - 0.5) * 10);
  };
  ASSERT_TRUE(prn::stream::scanner_runs_on(torch::Device(torch::kCUDA, 0)));
  prn::stream::ScannerConfig g = c;
  g.device = torch::Device(torch::kCUDA, 0);
  prn::stream::LineScanner cpu(c, width, scorer), gpu(g, width, scorer);
  for (int64_t r = 0; r < rows; r += 37) {
    const int64_t n = std::min<int64_t>(37, rows - r);
    cpu.push(packed.narrow(0, r, n).data_ptr(), n, packed.size(1), PixelFormat::BGRA);
    gpu.push(packed.narrow(0, r, n).data_ptr(), n, packed.size(1), PixelFormat::BGRA);
    EXPECT_EQ(gpu.rows_final(), cpu.rows_final());
  }
  cpu.finish();
  gpu.finish();
  ASSERT_EQ(gpu.rows_ready(), rows);
  const prn::stream::ScoredRows a = cpu.take(rows), b = gpu.take(rows);
  EXPECT_TRUE(b.heatmap.is_cpu());
  EXPECT_LE(max_diff(b.heatmap, a.heatmap), 1e-5f);
  EXPECT_LE(max_diff(b.row_scores, a.row_scores), 1e-5f);
  const auto ra = cpu.take_regions(rows + 1), rb = gpu.take_regions(rows + 1);
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), ra.size());
  EXPECT_EQ(rb[0].x, ra[0].x);
  EXPECT_EQ(rb[0].y, ra[0].y);
  EXPECT_EQ(rb[0].area, ra[0].area);
  EXPECT_EQ(gpu.tiles_scored(), cpu.tiles_scored());
  const size_t on_gpu = static_cast<size_t>(std::count_if(seen.begin(), seen.end(), [](const torch::Device &d) { return d.is_cuda(); }));
  EXPECT_EQ(on_gpu * 2, seen.size()); // the GPU scanner's tiles were built on the GPU
}
