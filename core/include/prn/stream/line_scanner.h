// prnanomaly core: scoring a continuous web, row by row, with a model that sees
// square tiles.
//
// Camera rows arrive in blocks of any height (1 line up to whole frames). The
// scanner keeps a rolling window of rows and scores tiles of T x T camera pixels
// (T = model input side * scale) placed with `overlap` pixels in common across the
// width and along the motion, the last column of tiles aligned to the right edge.
// Overlapping tile maps are blended with weights that fall towards tile borders,
// so a defect on a tile or block border is seen whole. A row is final once no
// later tile can cover it; final rows go out in order with their heatmap, the
// highest image score of the tiles covering them, and the regions that ended.
//
// The held camera rows stay packed as the camera sent them (any PixelFormat);
// tiles are built by the tiles_from_rows op and their maps blended by the
// stitch_tiles_ op (prn/ops/), on the CPU or, with config.device a CUDA device,
// on the GPU: then only the packed rows go up and the final heatmap rows come
// back.
#pragma once

#include "prn/stream/pixels.h"
#include "prn/stream/region_tracker.h"

#include <torch/torch.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace prn::stream {

// (B, 3, S, S) float32 RGB in [0, 1] on the scanner's device -> (B, 1, S, S)
// pixel scores in [0, 1] (on any device: they are moved to the scanner's).
using TileScorer = std::function<torch::Tensor(const torch::Tensor &tiles)>;

struct ScannerConfig {
  int64_t model_size = 256;    // S: the model's input side
  double scale = 1.0;          // camera pixels per model pixel (> 0)
  int64_t overlap = -1;        // camera pixels shared by neighbouring tiles; -1: T / 4
  int64_t batch = 8;           // tiles per model call
  int64_t top_k = 100;         // image score of a tile = mean of its top-k pixel scores
  float pixel_threshold = 0.5f;
  int64_t max_region_rows = 0; // longer regions are reported in segments; 0: 4 * T
  // Where the held rows, the tiles and the blending live: the CPU, or a CUDA
  // device (needs a build with the CUDA kernels, see scanner_runs_on()).
  torch::Device device = torch::kCPU;

  int64_t tile() const;             // T
  int64_t resolved_overlap() const; // overlap in [0, T)
  int64_t stride() const { return tile() - resolved_overlap(); }
  // Throws prn::Error naming the first bad field.
  void validate() const;
};

// True when a scanner can keep its windows on `device`: the CPU always, a CUDA
// device when the tile ops were built with their CUDA kernels.
bool scanner_runs_on(const torch::Device &device);

// Final rows [first, first + n).
struct ScoredRows {
  int64_t first = 0;
  torch::Tensor heatmap;    // (n, W) float32 pixel scores
  torch::Tensor row_scores; // (n) float32: highest image score of the tiles covering the row
};

class LineScanner {
public:
  LineScanner(const ScannerConfig &config, int64_t width, TileScorer scorer);
  ~LineScanner();
  LineScanner(const LineScanner &) = delete;
  LineScanner &operator=(const LineScanner &) = delete;

  const ScannerConfig &config() const { return config_; }
  int64_t width() const { return width_; }

  // Appends camera rows (n, W, 3) uint8 RGB and scores every tile they complete.
  void push(const torch::Tensor &rgb8);
  // Appends packed camera rows: (n, row_bytes) uint8 (row_bytes >= W * bytes per
  // pixel; the rest of each row is ignored), on the CPU or the scanner's device.
  // The format is fixed by the first rows pushed.
  void push(const torch::Tensor &packed, PixelFormat format);
  // The same from camera memory: n rows `stride` bytes apart, copied before
  // returning (to the device through a pinned staging buffer).
  void push(const void *data, int64_t n, int64_t stride, PixelFormat format);
  // End of the web: scores the rows still held (the last tiles aligned to the
  // last row, padded when fewer than T rows came) so every row becomes final.
  void finish();
  bool finished() const { return finished_; }

  int64_t rows_in() const { return rows_in_; }
  int64_t rows_final() const { return final_; }
  // Final rows not yet taken.
  int64_t rows_ready() const { return final_ - taken_; }
  // Rows a camera row can wait before it is final, at most: T + stride.
  int64_t max_rows_held() const;

  // Removes and returns the next n final rows (n <= rows_ready()), their heatmap
  // max-pooled over `column_step` camera columns (width ceil(W / column_step)).
  ScoredRows take(int64_t n, int64_t column_step = 1);
  // The regions that ended before web row `row` (see RegionTracker).
  std::vector<Region> take_regions(int64_t before_row) { return regions_.take_ended(before_row); }
  void set_pixel_threshold(float t) { regions_.set_threshold(t); }

  // Tiles scored so far, and model calls made.
  int64_t tiles_scored() const { return tiles_scored_; }
  // The distinct numbers of tiles the scanner passes to its scorer in one call
  // (one row of tiles is split into calls whose sizes differ by at most one),
  // largest first: the tensor shapes a scorer may warm up before the first rows.
  std::vector<int64_t> call_sizes() const;
  // Tiles in one row of tiles across the web, and the scorer calls they go in.
  int64_t tiles_per_row() const;
  int64_t calls_per_row() const { return static_cast<int64_t>(origins_.size()); }

private:
  void score_tile_row(int64_t y, int64_t accumulate_from);
  void finalise(int64_t upto);
  std::vector<int64_t> tile_columns() const;

  ScannerConfig config_;
  int64_t width_;
  TileScorer scorer_;
  int64_t tile_, stride_;
  torch::Tensor window_;                // (T, T) blending weights, on the device
  std::vector<torch::Tensor> origins_;  // per model call: (B, 2) int64 tile origins (0, x), on the device
  std::optional<PixelFormat> format_;   // of the rows held, from the first push

  // Rolling windows indexed by web row: camera pixels from the last scored tile
  // row on; blended scores, weights and row scores of the rows not yet final.
  struct Windows;
  std::unique_ptr<Windows> w_;
  int64_t rows_in_ = 0;
  int64_t next_tile_row_ = 0; // web row of the next tile row to score
  int64_t final_ = 0;         // rows before this are final
  bool finished_ = false;

  std::deque<torch::Tensor> out_heat_, out_scores_; // final rows not yet taken, in blocks
  int64_t taken_ = 0;
  RegionTracker regions_;
  int64_t tiles_scored_ = 0;
};

// (rows, W) -> (rows, ceil(W / step)): each column the highest of `step`
// neighbouring columns (the last group may be narrower). step 1: unchanged.
torch::Tensor max_pool_columns(const torch::Tensor &rows, int64_t step);

// One independent image (area cameras): resized to S x S, scored, the map
// resized back. Returns the (H, W) heatmap and the image score.
struct ScoredFrame {
  torch::Tensor heatmap; // (H, W) float32
  float score = 0.f;
};
ScoredFrame score_frame(const torch::Tensor &rgb8, int64_t model_size, int64_t top_k, const TileScorer &scorer);

} // namespace prn::stream
