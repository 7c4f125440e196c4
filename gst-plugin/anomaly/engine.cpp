#include "engine.h"

#include "prn/error.h"
#include "prn/join_integers.h"
#include "prn/postprocess.h"
#include "prn/stream/helper_thread.h"

#include <algorithm>
#include <cmath>

namespace prn::gst {

std::unique_ptr<Engine> Engine::load(const EngineSettings &settings) {
  std::unique_ptr<Engine> engine;
  stream::run_on_helper_thread([&] { engine = std::make_unique<Engine>(settings); });
  return engine;
}

torch::Device resolve_device(const std::string &name) {
  if (name == "auto")
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (name == "cpu")
    return torch::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    int64_t index = 0;
    if (name != "cuda") {
      const std::string n = name.substr(5);
      PRN_CHECK(!n.empty() && n.size() < 4 && std::all_of(n.begin(), n.end(), ::isdigit),
                "device '", name, "': expected auto, cpu, cuda or cuda:N with N a GPU index");
      index = std::stoll(n);
    }
    PRN_CHECK(torch::cuda::is_available(), "device '", name,
              "': LibTorch sees no CUDA GPU here (no driver, no device, or a CPU-only LibTorch); use device=cpu or auto");
    const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    PRN_CHECK(index < count, "device '", name, "': there are ", count, " CUDA GPU(s), index ", index, " does not exist");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw Error("device '" + name + "': expected auto, cpu, cuda or cuda:N");
}

Engine::Engine(const EngineSettings &settings) : settings_(settings) {
  PRN_CHECK(!settings.model.empty(), "no model: set the 'model' property to a bundle written by prn-train");
  device_ = resolve_device(settings.device);
  check_precision(settings.precision, device_); // fp16 needs CUDA
  bundle_ = load_bundle(settings.model);
  bundle_.model->eval();
  bundle_.model->to(device_);
  stream::RunnerOptions runner;
  runner.precision = settings.precision;
  runner.cuda_graphs = settings.cuda_graphs;
  runner_ = std::make_unique<stream::ModelRunner>(bundle_.model, device_, runner);
  pixel_threshold_ = static_cast<float>(bundle_.calibration.pixel_threshold);
  PRN_CHECK(settings.batch >= 1, "batch-size: expected at least 1, got ", settings.batch);
  PRN_CHECK(settings.tile_size >= 0, "tile-size: expected 0 (from scale) or a side in pixels, got ", settings.tile_size);
}

Engine::~Engine() = default;

torch::Tensor Engine::score_tiles(const torch::Tensor &tiles) {
  const auto t0 = std::chrono::steady_clock::now();
  if (settings_.threads > 0) // this thread's own team size; cheap, and the scoring thread may change
    stream::set_intraop_threads_of_this_thread(settings_.threads);
  // Tiles come from the scanner on the model's device (CUDA scanner) or from the
  // CPU; the maps (float32) stay on the model's device, the scanner takes them
  // from there. The call returns with the GPU's work done: its time is the model's.
  torch::Tensor maps = runner_->run(tiles);
  call_total_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  ++calls_;
  return maps;
}

void Engine::start_web(int64_t width, stream::PixelFormat format) {
  PRN_CHECK(width >= 1, "width: expected at least 1 pixel, got ", width);
  width_ = width;
  format_ = format;
  pending_rows_.clear();
  rows_pushed_ = rows_taken_ = 0;
  frames_.clear();
  stream::ModelRunner::StreamScope on_stream(*runner_); // the scanner's buffers are made on the stream using them
  scanner_.reset();
  if (settings_.mode == Mode::Lines)
    make_scanner();
  if (settings_.warm_up)
    stream::run_on_helper_thread([this] { warm_up(); });
}

std::string Engine::web_geometry() const {
  if (!scanner_)
    return "each frame resized to the model's " + std::to_string(model_size()) + " px, one model call per frame";
  const stream::ScannerConfig &c = scanner_->config();
  const std::string per_call = join_integers(scanner_->call_sizes(), " or ");
  return "tiles of " + std::to_string(c.tile()) + " px (model input " + std::to_string(model_size()) +
         " px), overlap " + std::to_string(c.resolved_overlap()) + ", stride " + std::to_string(c.stride()) + ": " +
         std::to_string(scanner_->tiles_per_row()) + " tiles per row of tiles in " +
         std::to_string(scanner_->calls_per_row()) + " model call(s) of " + per_call + " tiles, a row of tiles every " +
         std::to_string(c.stride()) + " lines; rows held on " + c.device.str();
}

void Engine::make_scanner() {
  stream::ScannerConfig c;
  c.model_size = model_size();
  c.scale = settings_.tile_size > 0 ? static_cast<double>(settings_.tile_size) / c.model_size : settings_.scale;
  c.overlap = settings_.overlap;
  c.batch = settings_.batch;
  c.top_k = bundle_.model->config().top_k;
  c.pixel_threshold = pixel_threshold_;
  c.max_region_rows = settings_.max_region_rows;
  // Rows, tiles and blending on the model's GPU when the tile ops have their
  // CUDA kernels; else on the CPU, the tiles going to the model's device.
  c.device = stream::scanner_runs_on(device_) ? device_ : torch::Device(torch::kCPU);
  PRN_CHECK(settings_.overlap < c.tile(), "tile-overlap: expected fewer pixels than the tile side (", c.tile(),
            "), got ", settings_.overlap);
  scanner_ = std::make_unique<stream::LineScanner>(c, width_, [this](const torch::Tensor &t) { return score_tiles(t); });
}

void Engine::push(const void *data, int64_t rows, int64_t stride) {
  PRN_CHECK(width_ > 0, "engine: push before start_web");
  stream::ModelRunner::StreamScope on_stream(*runner_); // the scanner's kernels and copies too
  if (scanner_) {
    scanner_->push(data, rows, stride, format_);
  } else {
    const torch::Tensor rgb = stream::rows_to_rgb8(data, width_, rows, stride, format_);
    const int64_t S = model_size();
    const stream::ScoredFrame f = stream::score_frame(
        rgb, S, bundle_.model->config().top_k, [this](const torch::Tensor &t) { return score_tiles(t); });
    BufferResult r;
    r.first_row = rows_pushed_;
    r.column_step = std::max<int64_t>(1, width_ / S);
    r.score = f.score;
    stream::RegionTracker tracker(pixel_threshold_, std::max<int64_t>(rows, 1));
    tracker.add_rows(f.heatmap);
    tracker.finish();
    r.regions = tracker.take_ended(rows);
    for (stream::Region &g : r.regions)
      g.y += rows_pushed_;
    r.heatmap = stream::max_pool_columns(f.heatmap, r.column_step);
    frames_.push_back(std::move(r));
  }
  pending_rows_.push_back(rows);
  rows_pushed_ += rows;
}

void Engine::finish() {
  stream::ModelRunner::StreamScope on_stream(*runner_);
  if (scanner_)
    scanner_->finish();
}

bool Engine::ready() const {
  if (pending_rows_.empty())
    return false;
  if (!scanner_)
    return true;
  // The buffer's rows are final, and so is the row after them (it tells whether
  // a region touching the buffer's last row has ended).
  const int64_t end = rows_taken_ + pending_rows_.front();
  return scanner_->finished() ? scanner_->rows_final() >= end : scanner_->rows_final() >= end + 1;
}

BufferResult Engine::take() {
  PRN_CHECK(ready(), "engine: take() with no buffer ready");
  stream::ModelRunner::StreamScope on_stream(*runner_);
  const int64_t rows = pending_rows_.front();
  pending_rows_.pop_front();
  BufferResult r;
  if (!scanner_) {
    r = std::move(frames_.front());
    frames_.pop_front();
  } else {
    r.first_row = rows_taken_;
    r.column_step = std::max<int64_t>(1, static_cast<int64_t>(std::floor(scanner_->config().scale)));
    stream::ScoredRows s = scanner_->take(rows, r.column_step);
    r.heatmap = s.heatmap;
    r.score = s.row_scores.numel() ? s.row_scores.max().item<float>() : 0.f;
    r.regions = scanner_->take_regions(rows_taken_ + rows);
  }
  rows_taken_ += rows;
  return r;
}

void Engine::set_pixel_threshold(float t) {
  pixel_threshold_ = t;
  if (scanner_)
    scanner_->set_pixel_threshold(t);
}

int64_t Engine::rows_held() const { return scanner_ ? scanner_->max_rows_held() + 1 : 0; }

std::chrono::nanoseconds Engine::call_time() const {
  const int64_t n = calls_;
  return std::chrono::nanoseconds(n ? call_total_ns_ / n : warm_up_ns_.load());
}

// One model call on blank tiles of every shape the web will bring that this
// engine has not run yet: the first call of a shape creates and compiles its
// kernels (oneDNN primitives, cuDNN algorithm search, the CUDA context's
// workspaces; with cuda-graphs, the graph's capture), which would otherwise hold
// up the first camera buffers, and its time is the processing time the LATENCY
// query reports before the first buffer.
void Engine::warm_up() {
  if (settings_.threads > 0) // as the scoring thread will
    stream::set_intraop_threads_of_this_thread(settings_.threads);
  const std::vector<int64_t> sizes = scanner_ ? scanner_->call_sizes() : std::vector<int64_t>{1};
  for (int64_t n : sizes) {
    if (std::find(warmed_.begin(), warmed_.end(), n) != warmed_.end())
      continue;
    if (runner_->captures_graphs())
      runner_->prepare(n); // the capture, not timed: the timed call below replays it
    const auto t0 = std::chrono::steady_clock::now();
    runner_->prepare(n);
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    if (ns > warm_up_ns_) // the slowest (largest) call: what one call of a row costs at most
      warm_up_ns_ = ns;
    warmed_.push_back(n);
  }
}

} // namespace prn::gst

namespace prn::gst {

std::chrono::nanoseconds Engine::processing_time() const {
  if (!scanner_)
    return call_time();
  const int64_t T = scanner_->config().tile(), stride = scanner_->config().stride();
  const int64_t columns = width_ <= T ? 1 : (width_ - T + stride - 1) / stride + 1;
  const int64_t calls = (columns + settings_.batch - 1) / settings_.batch;
  return call_time() * calls;
}

} // namespace prn::gst
