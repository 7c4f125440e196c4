// prnanomaly core: anomalous regions of a continuous web, found row by row.
//
// Rows of pixel scores arrive in order; the pixels at or above a threshold form
// 8-connected regions that may span any number of rows (and so any number of
// camera buffers). A region is reported once, when it ends: when a row arrives
// that none of its pixels touch, or when it has grown to `max_rows` rows (then it
// is reported as a segment and what follows starts a new region), or at finish().
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace prn::stream {

struct Region {
  int64_t x = 0, y = 0;          // top-left: camera column, web row
  int64_t width = 0, height = 0; // columns, rows
  int64_t area = 0;              // pixels at or above the threshold
  float peak = 0.f;              // highest score in the region
  int64_t last_row() const { return y + height - 1; }
};

class RegionTracker {
public:
  // threshold: scores at or above it are anomalous; max_rows >= 1.
  RegionTracker(float threshold, int64_t max_rows);

  void set_threshold(float threshold) { threshold_ = threshold; }
  float threshold() const { return threshold_; }

  // Adds the next rows (n, W) float32, W constant from the first call. The runs
  // of each row come from the threshold_runs op (prn/ops/threshold_runs.h): its
  // CPU twin for CPU rows; for CUDA rows its kernel, so only the runs are copied
  // back.
  void add_rows(const torch::Tensor &rows);
  // Ends every open region (end of the web).
  void finish();

  // Rows seen so far (the web row of the next row).
  int64_t rows() const { return row_; }
  // Removes and returns the ended regions whose last row is before `row`, in
  // the order they ended.
  std::vector<Region> take_ended(int64_t before_row);

private:
  struct Run {
    int64_t x0, x1; // inclusive columns
    size_t region;  // index into open_
  };
  // One row's runs: `count` (x0, x1 inclusive) pairs, 3 int64 apart (the op's
  // (row, x0, x1) rows from the x0 on), sorted by x0, and their peaks.
  void add_row(const int64_t *spans, const float *peaks, size_t count);
  void end(const Region &r);

  float threshold_;
  int64_t max_rows_;
  int64_t width_ = -1;
  int64_t row_ = 0;
  std::vector<Region> open_;   // regions touching the previous row
  std::vector<Run> prev_runs_; // runs of the previous row
  std::vector<Region> ended_;
};

} // namespace prn::stream
