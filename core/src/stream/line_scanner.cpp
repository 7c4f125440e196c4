#include "prn/stream/line_scanner.h"

#include "prn/error.h"
#include "prn/ops/stitch_tiles.h"
#include "prn/ops/tiles_from_rows.h"
#include "prn/postprocess.h"
#include "stream/row_window.h"

#include <algorithm>
#include <cmath>

namespace prn::stream {

namespace F = torch::nn::functional;

int64_t ScannerConfig::tile() const { return std::max<int64_t>(1, std::llround(model_size * scale)); }

int64_t ScannerConfig::resolved_overlap() const { return overlap < 0 ? tile() / 4 : overlap; }

void ScannerConfig::validate() const {
  PRN_CHECK(model_size >= 16, "scanner: expected a model input side >= 16, got ", model_size);
  PRN_CHECK(std::isfinite(scale) && scale > 0 && scale <= 64, "scanner: expected a scale in (0, 64], got ", scale);
  PRN_CHECK(overlap >= -1 && overlap < tile(), "scanner: expected an overlap in [0, ", tile(),
            ") camera pixels (the tile side) or -1 (a quarter tile), got ", overlap);
  PRN_CHECK(batch >= 1, "scanner: expected a batch of at least 1 tile, got ", batch);
  PRN_CHECK(top_k >= 1, "scanner: expected top_k >= 1, got ", top_k);
  PRN_CHECK(max_region_rows >= 0, "scanner: expected max_region_rows >= 0, got ", max_region_rows);
  PRN_CHECK(scanner_runs_on(device), "scanner: expected the CPU", prn::ops::tile_ops_have_cuda() ? " or a CUDA device" : "",
            " as the device", prn::ops::tile_ops_have_cuda() ? "" : " (this build has no CUDA kernels)", ", got ",
            device.str());
}

bool scanner_runs_on(const torch::Device &device) {
  return device.is_cpu() || (device.is_cuda() && prn::ops::tile_ops_have_cuda());
}

namespace {

// Blending weight of a tile pixel: rises linearly over the overlap from the tile
// border, 1 inside; never 0, so a pixel only one tile covers keeps its score.
torch::Tensor blend_window(int64_t tile, int64_t overlap) {
  const torch::Tensor u = torch::arange(tile, torch::kFloat32);
  const torch::Tensor d = torch::minimum(u, (tile - 1) - u) + 0.5;
  const torch::Tensor w = (d / static_cast<double>(std::max<int64_t>(1, overlap))).clamp(1e-3, 1.0);
  return w.unsqueeze(1) * w.unsqueeze(0);
}

torch::Tensor to_model_input(const torch::Tensor &rgb8_nhwc, int64_t size) {
  torch::Tensor x = rgb8_nhwc.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0);
  if (x.size(2) != size || x.size(3) != size)
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{size, size})
                              .mode(torch::kBilinear)
                              .align_corners(false)
                              .antialias(true));
  return x.contiguous();
}

torch::Tensor resize_maps(const torch::Tensor &maps, int64_t h, int64_t w) {
  if (maps.size(2) == h && maps.size(3) == w)
    return maps;
  return F::interpolate(maps, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{h, w})
                                  .mode(torch::kBilinear)
                                  .align_corners(false));
}

torch::Tensor run_scorer(const TileScorer &scorer, const torch::Tensor &tiles, const torch::Device &device) {
  torch::Tensor maps = scorer(tiles);
  PRN_CHECK(maps.defined() && maps.dim() == 4 && maps.size(0) == tiles.size(0) && maps.size(1) == 1 &&
                maps.size(2) == tiles.size(2) && maps.size(3) == tiles.size(3),
            "scanner: the tile scorer returned ", maps.defined() ? maps.sizes() : torch::IntArrayRef{},
            " for tiles ", tiles.sizes(), ", expected (B, 1, S, S)");
  return maps.to(device, torch::kFloat32);
}

} // namespace

struct LineScanner::Windows {
  RowWindow pixels; // packed camera rows, from the first push on
  RowWindow acc, weight, row_score;
};

LineScanner::LineScanner(const ScannerConfig &config, int64_t width, TileScorer scorer)
    : config_(config), width_(width), scorer_(std::move(scorer)),
      regions_(config.pixel_threshold, config.max_region_rows > 0 ? config.max_region_rows : 4 * config.tile()) {
  config_.validate();
  PRN_CHECK(width >= 1, "scanner: expected a width of at least 1 pixel, got ", width);
  PRN_CHECK(static_cast<bool>(scorer_), "scanner: no tile scorer");
  tile_ = config_.tile();
  stride_ = config_.stride();
  const torch::Device device = config_.device;
  window_ = blend_window(tile_, config_.resolved_overlap()).to(device);
  // As few model calls per tile row as the batch size allows, their sizes at
  // most one apart (21 tiles at batch 8: 7 + 7 + 7, not 8 + 8 + 5; 43: 8 + 7 x 5,
  // not 8 x 5 + 3): at most two tensor shapes per web width, and no small call,
  // which costs more per tile.
  const std::vector<int64_t> xs = tile_columns();
  const size_t calls = (xs.size() + static_cast<size_t>(config_.batch) - 1) / static_cast<size_t>(config_.batch);
  const size_t base = xs.size() / calls, larger = xs.size() % calls; // `larger` calls of base + 1
  for (size_t c = 0, b0 = 0; c < calls; ++c) {
    const size_t b1 = b0 + base + (c < larger ? 1 : 0);
    torch::Tensor o = torch::zeros({static_cast<int64_t>(b1 - b0), 2}, torch::kInt64);
    for (size_t i = b0; i < b1; ++i)
      o[static_cast<int64_t>(i - b0)][1] = xs[i];
    origins_.push_back(o.to(device));
    b0 = b1;
  }
  w_ = std::make_unique<Windows>();
  w_->acc = RowWindow({width}, torch::kFloat32, 0, device);
  w_->weight = RowWindow({width}, torch::kFloat32, 0, device);
  w_->row_score = RowWindow({}, torch::kFloat32, 0, device);
}

LineScanner::~LineScanner() = default;

int64_t LineScanner::max_rows_held() const { return tile_ + stride_; }

int64_t LineScanner::tiles_per_row() const {
  int64_t n = 0;
  for (const torch::Tensor &o : origins_)
    n += o.size(0);
  return n;
}

std::vector<int64_t> LineScanner::call_sizes() const {
  std::vector<int64_t> sizes;
  for (const torch::Tensor &o : origins_)
    if (std::find(sizes.begin(), sizes.end(), o.size(0)) == sizes.end())
      sizes.push_back(o.size(0));
  std::sort(sizes.rbegin(), sizes.rend());
  return sizes;
}

std::vector<int64_t> LineScanner::tile_columns() const {
  std::vector<int64_t> xs;
  if (width_ <= tile_)
    return {0};
  for (int64_t x = 0; x + tile_ < width_; x += stride_)
    xs.push_back(x);
  xs.push_back(width_ - tile_);
  return xs;
}

void LineScanner::push(const torch::Tensor &rgb8) {
  PRN_CHECK(rgb8.dim() == 3 && rgb8.size(1) == width_ && rgb8.size(2) == 3 && rgb8.scalar_type() == torch::kUInt8 &&
                rgb8.device().is_cpu(),
            "scanner: expected (rows, ", width_, ", 3) uint8 RGB rows on the CPU, got ", rgb8.sizes(), " ",
            rgb8.scalar_type());
  push(rgb8.reshape({rgb8.size(0), width_ * 3}), PixelFormat::RGB);
}

void LineScanner::push(const void *data, int64_t n, int64_t stride, PixelFormat format) {
  const int64_t row_bytes = width_ * bytes_per_pixel(format);
  PRN_CHECK(n >= 0 && stride >= row_bytes, "scanner: expected rows of at least ", row_bytes, " bytes apart (", width_,
            " ", pixel_format_name(format), " pixels), got a stride of ", stride, " bytes for ", n, " rows");
  PRN_CHECK(data != nullptr || n == 0, "scanner: no pixel data");
  if (n == 0)
    return push(torch::empty({0, row_bytes}, torch::kUInt8), format);
  push(torch::from_blob(const_cast<void *>(data), {n, row_bytes}, {stride, 1}, torch::kUInt8), format);
}

void LineScanner::push(const torch::Tensor &packed, PixelFormat format) {
  PRN_CHECK(!finished_, "scanner: rows pushed after finish()");
  const torch::Device device = config_.device;
  const int64_t row_bytes = width_ * bytes_per_pixel(format);
  PRN_CHECK(packed.dim() == 2 && packed.size(1) >= row_bytes && packed.scalar_type() == torch::kUInt8 &&
                (packed.device().is_cpu() || packed.device() == device),
            "scanner: expected (rows, >= ", row_bytes, ") uint8 rows of ", width_, " ", pixel_format_name(format),
            " pixels on the CPU or ", device.str(), ", got ", packed.sizes(), " ", packed.scalar_type(), " on ",
            packed.device().str());
  if (!format_) {
    format_ = format;
    w_->pixels = RowWindow({row_bytes}, torch::kUInt8, rows_in_, device);
  }
  PRN_CHECK(*format_ == format, "scanner: expected ", pixel_format_name(*format_), " rows as before, got ",
            pixel_format_name(format));
  const int64_t n = packed.size(0);
  if (n == 0)
    return;
  const torch::Tensor bytes = packed.narrow(1, 0, row_bytes);
  if (bytes.device() == device) {
    w_->pixels.append(bytes);
  } else { // host rows for a CUDA scanner: pinned staging, then an asynchronous upload on the current stream
    const torch::Tensor staging = torch::empty(bytes.sizes(), bytes.options().pinned_memory(true));
    staging.copy_(bytes);
    w_->pixels.append(staging, /*non_blocking=*/true);
  }
  w_->acc.append_filled(n, 0.0);
  w_->weight.append_filled(n, 0.0);
  w_->row_score.append_filled(n, 0.0);
  rows_in_ += n;
  while (rows_in_ >= next_tile_row_ + tile_) {
    score_tile_row(next_tile_row_, final_);
    finalise(next_tile_row_ + stride_);
    // Keep the rows from this tile row on: an end-aligned last tile may need them.
    w_->pixels.drop_before(next_tile_row_);
    next_tile_row_ += stride_;
  }
}

void LineScanner::finish() {
  if (finished_)
    return;
  if (rows_in_ > final_) {
    score_tile_row(std::max<int64_t>(0, rows_in_ - tile_), final_);
    finalise(rows_in_);
  }
  regions_.finish();
  finished_ = true;
}

void LineScanner::score_tile_row(int64_t y, int64_t accumulate_from) {
  const int64_t y_end = std::min(y + tile_, rows_in_);
  // Packed (h, W * bytes per pixel). Fewer than T rows in the whole web, or a
  // web narrower than a tile: tiles_from_rows repeats the last row / column.
  const torch::Tensor band = w_->pixels.rows(y, y_end);
  const int64_t from = std::max(y, accumulate_from);
  torch::Tensor acc = w_->acc.rows(from, y_end), weight = w_->weight.rows(from, y_end);
  torch::Tensor row_score = w_->row_score.rows(from, y_end);
  const int64_t skip = from - y, rows = y_end - from;

  for (const torch::Tensor &origins : origins_) {
    const torch::Tensor tiles =
        prn::ops::tiles_from_rows(band, *format_, width_, origins, tile_, config_.model_size);
    const torch::Tensor maps = run_scorer(scorer_, tiles, config_.device);
    tiles_scored_ += origins.size(0);
    if (rows <= 0)
      continue;
    // The tile rows from `skip` on land on acc's rows from 0.
    const torch::Tensor at = origins.clone();
    at.select(1, 0).fill_(-skip);
    prn::ops::stitch_tiles_(maps, at, window_, acc, weight);
    // Every tile of the row covers the same rows: they take the highest image score.
    row_score.clamp_min_(prn::image_scores(maps, config_.top_k).max());
  }
}

void LineScanner::finalise(int64_t upto) {
  upto = std::min(upto, rows_in_);
  if (upto <= final_)
    return;
  // On a CUDA scanner the only copies back to the host: the final rows.
  const torch::Tensor heat =
      (w_->acc.rows(final_, upto) / w_->weight.rows(final_, upto).clamp_min(1e-12)).contiguous().to(torch::kCPU);
  regions_.add_rows(heat);
  out_heat_.push_back(heat);
  out_scores_.push_back(w_->row_score.rows(final_, upto).clone().to(torch::kCPU));
  w_->acc.drop_before(upto);
  w_->weight.drop_before(upto);
  w_->row_score.drop_before(upto);
  final_ = upto;
}

ScoredRows LineScanner::take(int64_t n, int64_t column_step) {
  PRN_CHECK(n >= 0 && n <= rows_ready(), "scanner: asked for ", n, " final rows, ", rows_ready(), " are ready");
  PRN_CHECK(column_step >= 1, "scanner: expected a column step >= 1, got ", column_step);
  ScoredRows out;
  out.first = taken_;
  std::vector<torch::Tensor> heat, scores;
  int64_t left = n;
  while (left > 0) {
    torch::Tensor &h = out_heat_.front(), &s = out_scores_.front();
    const int64_t k = std::min(left, h.size(0));
    heat.push_back(h.narrow(0, 0, k));
    scores.push_back(s.narrow(0, 0, k));
    if (k == h.size(0)) {
      out_heat_.pop_front();
      out_scores_.pop_front();
    } else {
      h = h.narrow(0, k, h.size(0) - k);
      s = s.narrow(0, k, s.size(0) - k);
    }
    left -= k;
  }
  out.heatmap = heat.empty() ? torch::empty({0, width_}) : torch::cat(heat);
  out.row_scores = scores.empty() ? torch::empty({0}) : torch::cat(scores);
  if (n > 0)
    out.heatmap = max_pool_columns(out.heatmap, column_step);
  taken_ += n;
  return out;
}

torch::Tensor max_pool_columns(const torch::Tensor &rows, int64_t step) {
  PRN_CHECK(step >= 1, "max_pool_columns: expected a step >= 1, got ", step);
  if (step == 1)
    return rows;
  return F::max_pool1d(rows.unsqueeze(1), F::MaxPool1dFuncOptions(step).stride(step).ceil_mode(true))
      .squeeze(1)
      .contiguous();
}

ScoredFrame score_frame(const torch::Tensor &rgb8, int64_t model_size, int64_t top_k, const TileScorer &scorer) {
  PRN_CHECK(rgb8.dim() == 3 && rgb8.size(2) == 3 && rgb8.scalar_type() == torch::kUInt8 && rgb8.size(0) >= 1 &&
                rgb8.size(1) >= 1,
            "score_frame: expected (H, W, 3) uint8 RGB, got ", rgb8.sizes(), " ", rgb8.scalar_type());
  const torch::Tensor maps = run_scorer(scorer, to_model_input(rgb8.unsqueeze(0), model_size), torch::kCPU);
  ScoredFrame out;
  out.score = prn::image_scores(maps, top_k)[0].item<float>();
  out.heatmap = resize_maps(maps, rgb8.size(0), rgb8.size(1))[0][0].contiguous();
  return out;
}

} // namespace prn::stream
