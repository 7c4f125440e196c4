// prnanomaly element: the C++ side of the element, free of GObject. It owns the
// bundle, the device, and the line scanner (or the frame scorer); the element
// feeds it camera buffers and takes back, buffer by buffer, heatmap rows, score
// and regions. Errors are prn::Error; the element turns them into GStreamer errors.
#pragma once

#include "prn/bundle.h"
#include "prn/mixed_precision.h"
#include "prn/stream/line_scanner.h"
#include "prn/stream/model_runner.h"
#include "prn/stream/pixels.h"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prn::gst {

enum class Mode { Lines, Frame };

struct EngineSettings {
  std::string model;          // bundle path
  std::string device = "auto"; // auto | cpu | cuda | cuda:N
  Mode mode = Mode::Lines;
  double scale = 1.0;         // camera pixels per model pixel
  int64_t tile_size = 0;      // camera pixels; 0: model input side * scale
  int64_t overlap = -1;       // camera pixels; -1: a quarter tile
  int64_t batch = 8;
  int64_t max_region_rows = 0;
  bool warm_up = true;        // run each model call shape once on blank tiles when a web starts
  int threads = 0;            // intra-op threads of the scoring thread; 0: LibTorch's default
  Precision precision = Precision::Float32; // the model's arithmetic (autocast)
  bool cuda_graphs = false;   // CUDA: a CUDA graph per tile batch size (prn/stream/model_runner.h)
};

// Results for one camera buffer of `rows` rows.
struct BufferResult {
  int64_t first_row = 0;  // web row of the buffer's first row
  torch::Tensor heatmap;  // (rows, ceil(W / column_step)) float32
  int64_t column_step = 1;
  float score = 0.f;      // highest image score of the tiles covering the rows
  std::vector<stream::Region> regions; // ended in these rows (web coordinates)
};

class Engine {
public:
  // Loads the bundle and picks the device. Throws prn::Error naming the file,
  // device or value at fault.
  explicit Engine(const EngineSettings &settings);
  // The same on a short-lived thread of its own (prn/stream/helper_thread.h): what
  // the element calls from the application's thread, so that only the scoring
  // thread keeps an OpenMP team.
  static std::unique_ptr<Engine> load(const EngineSettings &settings);
  ~Engine();

  const std::string &model_id() const { return bundle_.model_id; }
  const Calibration &calibration() const { return bundle_.calibration; }
  int64_t model_size() const { return bundle_.model->config().input_size; }
  std::string device_name() const { return device_.str(); }
  // Tile batch sizes captured in CUDA graphs so far (0 on the CPU or without cuda-graphs).
  int64_t cuda_graphs() const { return runner_->graphs(); }

  // Starts a new web of `width` pixels of `format` (caps, discontinuities).
  void start_web(int64_t width, stream::PixelFormat format);
  // How the current web is scored, in words, for the log: tile side, overlap,
  // stride, tiles and model calls per row of tiles, where the rows are held.
  std::string web_geometry() const;
  // Appends one camera buffer (rows of `stride` bytes).
  void push(const void *data, int64_t rows, int64_t stride);
  // End of the web: everything pushed becomes final.
  void finish();
  // True when the oldest buffer not yet taken can be taken.
  bool ready() const;
  // Results of the oldest buffer not yet taken.
  BufferResult take();

  void set_pixel_threshold(float t);
  // Worst-case rows a camera row is held before its buffer can go out, beside
  // the buffer's own rows.
  int64_t rows_held() const;
  // Mean wall time of one model call on `batch` tiles, measured; before the first
  // call, the warm-up's (0 without warm-up).
  std::chrono::nanoseconds call_time() const;
  // Time to score what one buffer may complete: a row of tiles across the web
  // (lines) or one frame, from the measured call time (0 before the first call).
  std::chrono::nanoseconds processing_time() const;
  // Model calls so far (warm-up calls not counted).
  int64_t calls() const { return calls_; }
  // Call shapes (tiles per call) run on blank tiles so far, when webs started.
  int64_t warm_up_calls() const { return static_cast<int64_t>(warmed_.size()); }

private:
  torch::Tensor score_tiles(const torch::Tensor &tiles);
  void make_scanner();
  void warm_up();

  EngineSettings settings_;
  Bundle bundle_;
  torch::Device device_{torch::kCPU};
  std::unique_ptr<stream::ModelRunner> runner_; // the model's calls, on its own CUDA stream on a GPU
  float pixel_threshold_;
  int64_t width_ = 0;
  stream::PixelFormat format_ = stream::PixelFormat::Gray8;
  std::unique_ptr<stream::LineScanner> scanner_;
  std::deque<int64_t> pending_rows_; // rows of each buffer pushed, not yet taken (FIFO)
  int64_t rows_pushed_ = 0, rows_taken_ = 0;
  std::deque<BufferResult> frames_; // frame mode: scored buffers not yet taken
  // Read by the LATENCY query from another thread than the one scoring.
  std::atomic<int64_t> calls_{0}, call_total_ns_{0};
  std::vector<int64_t> warmed_;          // tiles per call already run once
  std::atomic<int64_t> warm_up_ns_{0};   // the largest warm-up call
};

// "auto" -> CUDA when LibTorch sees a GPU, else CPU; "cpu"; "cuda"; "cuda:N".
// Throws prn::Error when CUDA is asked for and absent, or on an unknown name.
torch::Device resolve_device(const std::string &name);

} // namespace prn::gst
