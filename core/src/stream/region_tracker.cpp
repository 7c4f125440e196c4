// Streaming 8-connected component labelling over runs: each row's runs of
// anomalous pixels join the open regions whose runs on the previous row they
// touch (columns overlapping within one pixel); regions joined by one run merge;
// open regions no run touched have ended.
#include "prn/stream/region_tracker.h"

#include "prn/error.h"
#include "prn/ops/threshold_runs.h"

#include <algorithm>
#include <numeric>

namespace prn::stream {

namespace {

Region merged(const Region &a, const Region &b) {
  Region r;
  r.x = std::min(a.x, b.x);
  r.y = std::min(a.y, b.y);
  r.width = std::max(a.x + a.width, b.x + b.width) - r.x;
  r.height = std::max(a.y + a.height, b.y + b.height) - r.y;
  r.area = a.area + b.area;
  r.peak = std::max(a.peak, b.peak);
  return r;
}

size_t find(std::vector<size_t> &parent, size_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

} // namespace

RegionTracker::RegionTracker(float threshold, int64_t max_rows) : threshold_(threshold), max_rows_(max_rows) {
  PRN_CHECK(max_rows >= 1, "RegionTracker: expected max_rows >= 1, got ", max_rows);
}

void RegionTracker::add_rows(const torch::Tensor &rows) {
  PRN_CHECK(rows.dim() == 2 && rows.scalar_type() == torch::kFloat32 && (rows.is_cpu() || rows.is_cuda()),
            "RegionTracker: expected (rows, width) float32 CPU or CUDA scores, got ", rows.sizes(), " ",
            rows.scalar_type(), " on ", rows.device());
  if (width_ < 0)
    width_ = rows.size(1);
  PRN_CHECK(rows.size(1) == width_, "RegionTracker: expected width ", width_, ", got ", rows.size(1));
  auto [spans, peaks] = ops::threshold_runs(rows, threshold_);
  spans = spans.cpu().contiguous();
  peaks = peaks.cpu().contiguous();
  const int64_t *s = spans.data_ptr<int64_t>();
  const float *p = peaks.data_ptr<float>();
  const auto total = static_cast<size_t>(peaks.size(0));
  size_t i = 0;
  for (int64_t r = 0; r < rows.size(0); ++r) {
    size_t j = i;
    while (j < total && s[3 * j] == r)
      ++j;
    if (j > i)
      add_row(s + 3 * i + 1, p + i, j - i);
    else
      add_row(nullptr, nullptr, 0);
    i = j;
  }
}

void RegionTracker::add_row(const int64_t *spans, const float *peaks, size_t count) {
  // Runs of this row, each with a provisional region appended after the open ones.
  std::vector<Run> runs;
  runs.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const int64_t x0 = spans[3 * i], x1 = spans[3 * i + 1];
    Region r;
    r.x = x0;
    r.y = row_;
    r.width = x1 - x0 + 1;
    r.height = 1;
    r.area = x1 - x0 + 1;
    r.peak = peaks[i];
    open_.push_back(r);
    runs.push_back({x0, x1, open_.size() - 1});
  }

  // Union the run regions with the previous row's regions they touch (8-connected:
  // overlap within one column). Both run lists are sorted by column.
  std::vector<size_t> parent(open_.size());
  std::iota(parent.begin(), parent.end(), size_t{0});
  size_t j0 = 0;
  for (const Run &run : runs) {
    while (j0 < prev_runs_.size() && prev_runs_[j0].x1 < run.x0 - 1)
      ++j0;
    for (size_t j = j0; j < prev_runs_.size() && prev_runs_[j].x0 <= run.x1 + 1; ++j) {
      const size_t a = find(parent, run.region), b = find(parent, prev_runs_[j].region);
      if (a != b)
        parent[std::max(a, b)] = std::min(a, b);
    }
  }
  for (size_t i = 0; i < open_.size(); ++i) {
    const size_t root = find(parent, i);
    if (root != i)
      open_[root] = merged(open_[root], open_[i]);
  }

  // Regions of the previous row no run touched have ended (a region merged into
  // another is carried by its root). Roots still open get compact indices.
  std::vector<bool> touches_row(open_.size(), false);
  for (const Run &run : runs)
    touches_row[find(parent, run.region)] = true;
  std::vector<Region> still_open;
  std::vector<size_t> index(open_.size(), SIZE_MAX);
  for (size_t i = 0; i < open_.size(); ++i) {
    if (find(parent, i) != i)
      continue;
    if (!touches_row[i]) {
      end(open_[i]);
      continue;
    }
    index[i] = still_open.size();
    still_open.push_back(open_[i]);
  }
  for (Run &run : runs)
    run.region = index[find(parent, run.region)];
  open_ = std::move(still_open);

  // Regions that reached max_rows end here as a segment; the next rows start anew.
  for (size_t i = 0; i < open_.size(); ++i) {
    if (open_[i].height < max_rows_)
      continue;
    end(open_[i]);
    open_[i].area = -1; // marker: dropped below
  }
  if (std::any_of(open_.begin(), open_.end(), [](const Region &r) { return r.area < 0; })) {
    std::vector<Region> kept;
    std::vector<size_t> remap(open_.size(), SIZE_MAX);
    for (size_t i = 0; i < open_.size(); ++i)
      if (open_[i].area >= 0) {
        remap[i] = kept.size();
        kept.push_back(open_[i]);
      }
    std::vector<Run> kept_runs;
    for (const Run &run : runs)
      if (remap[run.region] != SIZE_MAX)
        kept_runs.push_back({run.x0, run.x1, remap[run.region]});
    open_ = std::move(kept);
    runs = std::move(kept_runs);
  }
  prev_runs_ = std::move(runs);
  ++row_;
}

void RegionTracker::end(const Region &r) { ended_.push_back(r); }

void RegionTracker::finish() {
  for (const Region &r : open_)
    end(r);
  open_.clear();
  prev_runs_.clear();
}

std::vector<Region> RegionTracker::take_ended(int64_t before_row) {
  std::vector<Region> out, keep;
  for (const Region &r : ended_)
    (r.last_row() < before_row ? out : keep).push_back(r);
  ended_ = std::move(keep);
  return out;
}

} // namespace prn::stream
