// The line scanner: tiles over a continuous web, blended, final rows in order,
// independent of how the camera cuts the web into blocks; the call shapes it
// gives its scorer; the helper thread for one-off LibTorch work.
#include "prn/error.h"
#include "prn/stream/helper_thread.h"
#include "prn/stream/line_scanner.h"
#include "test_util.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

using prn::stream::LineScanner;
using prn::stream::ScannerConfig;

namespace {

// A stand-in model: pixel score = the tile's own brightness. Stitching a web of
// such maps must give back the web's brightness, whatever the tiling.
torch::Tensor brightness(const torch::Tensor &tiles) { return tiles.mean(1, true); }

torch::Tensor web(int64_t rows, int64_t width, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 100, {rows, width, 3}, torch::kUInt8); // scores below 0.4
}

struct Scan {
  torch::Tensor heat, row_scores;
  std::vector<prn::stream::Region> regions;
  int64_t tiles = 0;
};

// Pushes the web in blocks of `block` rows, taking final rows as they come.
Scan scan(const torch::Tensor &w, const ScannerConfig &c, int64_t block) {
  LineScanner s(c, w.size(1), brightness);
  std::vector<torch::Tensor> heat, scores;
  for (int64_t r = 0; r < w.size(0); r += block) {
    s.push(w.narrow(0, r, std::min(block, w.size(0) - r)));
    EXPECT_LE(s.rows_in() - s.rows_final(), s.max_rows_held());
    prn::stream::ScoredRows out = s.take(s.rows_ready());
    heat.push_back(out.heatmap);
    scores.push_back(out.row_scores);
  }
  s.finish();
  EXPECT_EQ(s.rows_final(), w.size(0));
  prn::stream::ScoredRows out = s.take(s.rows_ready());
  heat.push_back(out.heatmap);
  scores.push_back(out.row_scores);
  return {torch::cat(heat), torch::cat(scores), s.take_regions(w.size(0) + 1), s.tiles_scored()};
}

ScannerConfig config(int64_t size, double scale = 1.0, int64_t overlap = -1) {
  ScannerConfig c;
  c.model_size = size;
  c.scale = scale;
  c.overlap = overlap;
  c.batch = 3;
  c.top_k = 4;
  c.pixel_threshold = 0.5f;
  return c;
}

} // namespace

TEST(StreamScanner, StitchedHeatmapIsTheWebWhateverTheBlocksAndWidth) {
  for (int64_t width : {1, 5, 31, 32, 33, 103}) {
    const torch::Tensor w = web(150, width, 1 + width);
    const torch::Tensor expected = w.to(torch::kFloat32).mean(2) / 255.0;
    for (int64_t block : {1, 7, 64, 150}) {
      const Scan r = scan(w, config(32), block);
      ASSERT_EQ(r.heat.sizes(), expected.sizes()) << "width " << width << " block " << block;
      EXPECT_TRUE(torch::allclose(r.heat, expected, 1e-5, 1e-5)) << "width " << width << " block " << block;
    }
  }
}

TEST(StreamScanner, FewerRowsThanATileAreScoredAtFinish) {
  const torch::Tensor w = web(3, 40, 7);
  const Scan r = scan(w, config(32), 1);
  EXPECT_TRUE(torch::allclose(r.heat, w.to(torch::kFloat32).mean(2) / 255.0, 1e-5, 1e-5));
  EXPECT_EQ(r.tiles, 2); // one row of two tiles, padded along the motion
}

TEST(StreamScanner, TilesOverlapAcrossAndAlong) {
  // T = 32, overlap 8, stride 24: columns 0, 24, 48, 68 (right-aligned) for 100 px;
  // rows: tile rows at 0, 24, 48, 72 while 104 >= y + 32, then one end-aligned at 72.
  const torch::Tensor w = web(104, 100, 3);
  const Scan r = scan(w, config(32, 1.0, 8), 104);
  EXPECT_EQ(r.tiles, 4 * 4 + 4);
}

TEST(StreamScanner, DefectAcrossABlockBorderIsOneRegionWithItsBox) {
  torch::Tensor w = web(200, 90, 11);
  w.narrow(0, 58, 12).narrow(1, 40, 9).fill_(230); // rows 58..69 across the block border at 64
  for (int64_t block : {1, 64}) {
    const Scan r = scan(w, config(32), block);
    ASSERT_EQ(r.regions.size(), 1u) << "block " << block;
    const prn::stream::Region &g = r.regions[0];
    EXPECT_EQ(g.x, 40); EXPECT_EQ(g.y, 58); EXPECT_EQ(g.width, 9); EXPECT_EQ(g.height, 12);
    EXPECT_EQ(g.area, 9 * 12);
    EXPECT_NEAR(g.peak, 230 / 255.0, 1e-4);
    // Rows covered by a tile holding the defect score higher than rows far from it.
    EXPECT_GT(r.row_scores[60].item<float>(), 0.85f);
    EXPECT_LT(r.row_scores[150].item<float>(), 0.45f);
  }
}

TEST(StreamScanner, ScaledTilesAreResizedForTheModelAndBack) {
  // A smooth web (a horizontal gradient): resizing by 2 and back keeps it.
  const int64_t width = 160;
  torch::Tensor ramp = torch::linspace(0, 255, width).round().to(torch::kUInt8);
  const torch::Tensor w = ramp.view({1, width, 1}).expand({130, width, 3}).contiguous();
  const Scan r = scan(w, config(32, 2.0), 10); // T = 64
  const torch::Tensor expected = w.to(torch::kFloat32).mean(2) / 255.0;
  EXPECT_LT((r.heat - expected).abs().max().item<float>(), 0.02f);
}

TEST(StreamScanner, TakeMaxPoolsColumns) {
  torch::Tensor w = web(40, 10, 5);
  w[3][9].fill_(250);
  LineScanner s(config(16), 10, brightness);
  s.push(w);
  s.finish();
  const prn::stream::ScoredRows out = s.take(40, 4);
  ASSERT_EQ(out.heatmap.sizes(), (std::vector<int64_t>{40, 3}));
  EXPECT_NEAR(out.heatmap[3][2].item<float>(), 250 / 255.0, 1e-4); // the last, partial group
  EXPECT_EQ(out.first, 0);
  EXPECT_PRN_ERROR(s.take(1), "asked for 1", "0 are ready");
}

TEST(StreamScanner, BadConfigAndRowsAreNamed) {
  ScannerConfig c = config(32);
  c.overlap = 32;
  EXPECT_PRN_ERROR(c.validate(), "overlap", "32");
  c = config(32, 0.0);
  EXPECT_PRN_ERROR(c.validate(), "scale");
  LineScanner s(config(32), 8, brightness);
  EXPECT_PRN_ERROR(s.push(torch::zeros({2, 9, 3}, torch::kUInt8)), "(rows, 8, 3)");
  LineScanner bad(config(32), 8, [](const torch::Tensor &t) { return t; });
  EXPECT_PRN_ERROR({ bad.push(torch::zeros({40, 8, 3}, torch::kUInt8)); }, "tile scorer", "(B, 1, S, S)");
}

TEST(StreamScanner, FrameIsScoredWhole) {
  const torch::Tensor img = torch::full({20, 50, 3}, 128, torch::kUInt8);
  const prn::stream::ScoredFrame f = prn::stream::score_frame(img, 32, 10, brightness);
  ASSERT_EQ(f.heatmap.sizes(), (std::vector<int64_t>{20, 50}));
  EXPECT_NEAR(f.heatmap.mean().item<float>(), 128 / 255.0, 1e-4);
  EXPECT_NEAR(f.score, 128 / 255.0, 1e-4);
}

TEST(StreamScanner, CallSizesAreTheShapesTheScorerGets) {
  // Tile 16, stride 12 (a quarter-tile overlap): W = 16 + 12 (n - 1) gives n tiles.
  struct Case {
    int64_t tiles, batch;
    std::vector<int64_t> sizes;
  };
  // Calls of sizes at most one apart: 22 at batch 8 is 8 + 7 + 7, not 8 + 8 + 6;
  // 43 is 8 + 7 x 5, not 8 x 5 + 3.
  for (const Case &k : {Case{1, 8, {1}}, Case{21, 8, {7}}, Case{22, 8, {8, 7}}, Case{43, 8, {8, 7}},
                        Case{85, 8, {8, 7}}, Case{8, 8, {8}}, Case{9, 8, {5, 4}}, Case{5, 2, {2, 1}}}) {
    const int64_t width = 16 + 12 * (k.tiles - 1);
    SCOPED_TRACE(std::to_string(k.tiles) + " tiles at batch " + std::to_string(k.batch));
    ScannerConfig c = config(16);
    c.batch = k.batch;
    std::vector<int64_t> seen;
    int64_t calls = 0;
    LineScanner s(c, width, [&](const torch::Tensor &t) {
      ++calls;
      if (std::find(seen.begin(), seen.end(), t.size(0)) == seen.end())
        seen.push_back(t.size(0));
      return brightness(t);
    });
    EXPECT_EQ(s.call_sizes(), k.sizes);
    EXPECT_EQ(s.tiles_per_row(), k.tiles);
    EXPECT_EQ(s.calls_per_row(), (k.tiles + k.batch - 1) / k.batch);
    s.push(web(40, width, 3));
    s.finish();
    std::sort(seen.rbegin(), seen.rend());
    EXPECT_EQ(seen, k.sizes) << "the scorer got exactly these batch sizes";
    // What it says per row of tiles is what it did over the whole web.
    ASSERT_GT(s.tiles_scored(), 0);
    EXPECT_EQ(s.tiles_scored() % k.tiles, 0);
    EXPECT_EQ(calls, s.tiles_scored() / k.tiles * s.calls_per_row());
  }
}

TEST(StreamHelperThread, RunsTheWorkOnAnotherThreadAndRethrowsItsError) {
  std::thread::id ran_on;
  prn::stream::run_on_helper_thread([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_NE(ran_on, std::this_thread::get_id());
  try {
    prn::stream::run_on_helper_thread([] { throw prn::Error("bundle 'x.prn': truncated"); });
    FAIL() << "no exception";
  } catch (const prn::Error &e) {
    EXPECT_STREQ(e.what(), "bundle 'x.prn': truncated");
  }
}

TEST(StreamHelperThread, IntraopThreadsAreSetForTheCallingThreadOnly) {
  const int process = at::get_num_threads();
  int here = 0, beside = 0;
  std::thread([&] {
    ASSERT_TRUE(prn::stream::set_intraop_threads_of_this_thread(process + 2)) << "LibTorch uses OpenMP here";
    here = at::get_num_threads();
    std::thread([&] { beside = at::get_num_threads(); }).join();
  }).join();
  EXPECT_EQ(here, process + 2);
  EXPECT_EQ(beside, process) << "a new thread keeps the process-wide count";
  EXPECT_EQ(at::get_num_threads(), process) << "the caller's thread is untouched";
  EXPECT_THROW(prn::stream::set_intraop_threads_of_this_thread(0), prn::Error);
}
