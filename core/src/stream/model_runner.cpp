#include "prn/stream/model_runner.h"

#include "prn/error.h"

#include <map>
#include <string>
#include <utility>

#if PRN_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda.h>
#include <cuda_runtime_api.h>

// at::cuda::CUDAGraph's members depend on CUDA_VERSION (>= 12.4 adds some): an
// older toolkit than LibTorch's would give it another size than LibTorch's own.
static_assert(CUDA_VERSION >= 12040, "the CUDA graphs of LibTorch need the CUDA toolkit 12.4 or newer");
#endif

namespace prn::stream {

#if PRN_WITH_CUDA
namespace detail {

// One tile batch size captured: replaying the graph runs the model on `input`'s
// memory and writes the maps into `output`'s.
struct Captured {
  at::cuda::CUDAGraph graph;
  torch::Tensor input, output;
};

} // namespace detail

namespace {

using detail::Captured;

// Ends a capture that failed half-way, so that the stream can be used again:
// through the graph (which tells the allocator the capture is over), and
// directly if the stream still captures after that.
void abandon_capture(at::cuda::CUDAGraph &graph, cudaStream_t stream) {
  try {
    graph.capture_end();
  } catch (const std::exception &) {
    // capture_end reports the failure again: the first error is the one thrown
  }
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(stream, &partial);
    if (partial != nullptr)
      cudaGraphDestroy(partial);
  }
  (void)cudaGetLastError(); // the capture's error is reported by the exception
}

// A CUDA stream of the runner's own, created for it and destroyed with it. Not
// one of LibTorch's pool streams: those are handed out round-robin (32 per
// device), so two runners of one process (two elements, or one restarted many
// times) could get the same stream, and one runner's work would then be captured
// into the other's graph.
cudaStream_t new_stream(c10::DeviceIndex index) {
  c10::cuda::CUDAGuard on_device(index);
  cudaStream_t s = nullptr;
  C10_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

} // namespace

struct ModelRunner::Cuda {
  explicit Cuda(c10::DeviceIndex index)
      : raw(new_stream(index)), stream(c10::cuda::getStreamFromExternal(raw, index)) {}
  ~Cuda() {
    graphs.clear(); // their pool first
    c10::cuda::CUDAGuard on_device(stream.device_index());
    (void)cudaStreamSynchronize(raw);
    // Blocks the caching allocator keeps for this stream stay reserved until it
    // needs memory (it frees unused cached blocks before failing an allocation).
    (void)cudaStreamDestroy(raw);
  }
  Cuda(const Cuda &) = delete;
  Cuda &operator=(const Cuda &) = delete;

  cudaStream_t raw;
  c10::cuda::CUDAStream stream;
  std::map<int64_t, std::unique_ptr<Captured>> graphs;
  // The graphs share one memory pool: they are replayed one at a time on one
  // stream, and each output is copied out right after its replay (a later
  // replay of another size may reuse that memory).
  std::optional<c10::MempoolId_t> pool;
};

namespace {

Captured &captured(ModelRunner::Cuda &cuda, PrnModel &model, const torch::Device &device, Precision precision,
                   const torch::Tensor &example) {
  const int64_t n = example.size(0);
  if (auto it = cuda.graphs.find(n); it != cuda.graphs.end())
    return *it->second;
  auto c = std::make_unique<Captured>();
  c->input = torch::zeros_like(example);
  {
    // Eager calls first, on the runner's stream: cuDNN's algorithm search, the
    // folded BatchNorm weights and the allocator's blocks are made here, not
    // inside the capture (which may not wait for the device nor allocate outside
    // its pool).
    AutocastGuard autocast(device, precision);
    for (int i = 0; i < 2; ++i)
      model->anomaly_map(c->input);
  }
  cuda.stream.synchronize();
  // Weights cast by autocast must be made by the graph itself, not taken from a
  // cache filled outside it (as torch.cuda.graph does).
  const bool cache = at::autocast::is_autocast_cache_enabled();
  at::autocast::set_autocast_cache_enabled(false);
  try {
    // Thread-local mode: other threads of the process (another element) may keep
    // using CUDA while this one captures.
    c->graph.capture_begin(cuda.pool.value_or(c10::MempoolId_t{0, 0}), cudaStreamCaptureModeThreadLocal);
    {
      AutocastGuard autocast(device, precision);
      c->output = model->anomaly_map(c->input, InputCheck::Shape).to(torch::kFloat32);
    }
    c->graph.capture_end();
  } catch (const std::exception &e) {
    at::autocast::set_autocast_cache_enabled(cache);
    abandon_capture(c->graph, cuda.stream.stream());
    // The failed graph's reset frees this stream's cuBLAS workspace, which the
    // graphs captured before may use: none is kept.
    c.reset();
    cuda.graphs.clear();
    cuda.pool.reset();
    throw Error("cuda-graphs: capturing the model's call on " + std::to_string(n) + " tiles on " + device.str() +
                " failed (" + e.what() + "); run without CUDA graphs");
  }
  at::autocast::set_autocast_cache_enabled(cache);
  if (!cuda.pool)
    cuda.pool = c->graph.pool();
  return *cuda.graphs.emplace(n, std::move(c)).first->second;
}

torch::Device with_index(const torch::Device &device) {
  return device.is_cuda() && !device.has_index() ? torch::Device(torch::kCUDA, c10::cuda::current_device()) : device;
}

} // namespace
#else
struct ModelRunner::Cuda {};
namespace {
torch::Device with_index(const torch::Device &device) { return device; }
} // namespace
#endif

ModelRunner::ModelRunner(PrnModel model, torch::Device device, RunnerOptions options)
    : model_(std::move(model)), device_(with_index(device)), options_(options) {
  PRN_CHECK(!model_.is_empty(), "model runner: expected a model, got none");
#if PRN_WITH_CUDA
  if (device_.is_cuda()) {
    cuda_ = std::make_unique<Cuda>(device_.index());
    if (options_.cudnn_benchmark)
      at::globalContext().setBenchmarkCuDNN(true);
  }
#endif
}

ModelRunner::~ModelRunner() = default;

torch::Tensor ModelRunner::run(const torch::Tensor &tiles) {
  torch::InferenceMode inference;
#if PRN_WITH_CUDA
  if (cuda_) {
    // The runner's stream waits for the caller's (which made the tiles), and the
    // maps are marked as used by the caller's, so that the allocator does not
    // hand their memory out again while the caller's stream may still read it.
    const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream(device_.index());
    const bool other_stream = caller != cuda_->stream;
    if (other_stream) {
      c10::cuda::CUDAEvent made;
      made.record(caller);
      made.block(cuda_->stream);
    }
    c10::cuda::CUDAStreamGuard on_stream(cuda_->stream);
    // From the CPU: through pinned memory, the copy queued on the stream.
    const torch::Tensor input =
        tiles.defined() && tiles.is_cpu() ? tiles.pin_memory().to(device_, /*non_blocking=*/true) : tiles;
    torch::Tensor maps;
    if (options_.cuda_graphs) {
      model_->check_input(input); // NaN and Inf too: not inside the graph, which cannot wait for the device
      Captured &c = captured(*cuda_, model_, device_, options_.precision, input);
      c.input.copy_(input, /*non_blocking=*/true);
      c.graph.replay();
      maps = c.output.clone();
    } else {
      AutocastGuard autocast(device_, options_.precision);
      maps = model_->anomaly_map(input).to(torch::kFloat32);
    }
    cuda_->stream.synchronize();
    if (other_stream)
      maps.record_stream(caller.unwrap());
    return maps;
  }
#endif
  AutocastGuard autocast(device_, options_.precision);
  torch::Tensor maps = model_->anomaly_map(tiles.defined() ? tiles.to(device_) : tiles).to(torch::kFloat32);
  if (device_.is_cuda()) // a build without the CUDA kernels: LibTorch's current stream, the whole device
    torch::cuda::synchronize(device_.index());
  return maps;
}

void ModelRunner::prepare(int64_t n) {
  PRN_CHECK(n >= 1, "model runner: expected at least one tile to prepare, got ", n);
  const int64_t S = model_->config().input_size;
  StreamScope scope(*this); // the blank tiles are made on the stream that reads them
  run(torch::zeros({n, 3, S, S}, torch::TensorOptions(device_)));
}

std::optional<c10::Stream> ModelRunner::stream() const {
#if PRN_WITH_CUDA
  if (cuda_)
    return cuda_->stream.unwrap();
#endif
  return std::nullopt;
}

int64_t ModelRunner::graphs() const {
#if PRN_WITH_CUDA
  if (cuda_)
    return static_cast<int64_t>(cuda_->graphs.size());
#endif
  return 0;
}

ModelRunner::StreamScope::StreamScope(const ModelRunner &runner) {
  if (const auto s = runner.stream())
    guard_.emplace(*s);
}

} // namespace prn::stream
