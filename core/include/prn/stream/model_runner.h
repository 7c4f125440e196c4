// Runs the model on tile batches on its device: what the element and the
// benchmarks call for each batch of tiles.
//
// On the CPU it is the model's anomaly_map under the precision's autocast. On a
// CUDA GPU (a build with the CUDA kernels) the work goes to a stream of the
// runner's own, never the device's default stream, so that two elements (or an
// application's own CUDA work) in one process do not serialise on it; tiles
// coming from the CPU are copied through pinned memory, asynchronously; cuDNN
// picks its fastest algorithms per shape (cudnn_benchmark); and with cuda_graphs
// each tile batch size is captured once in a CUDA graph and replayed after, one
// launch per call instead of a few hundred. Every call returns with its work
// finished on the device (the stream synchronised): the maps can be read at once.
// A call first makes the runner's stream wait for the caller's current stream
// (which made the tiles), and marks the maps as used by the caller's stream.
//
// The model must not change while a runner with graphs lives (weights,
// prototypes, train mode): a graph replays the memory it was captured with.
#pragma once

#include "prn/mixed_precision.h"
#include "prn/model.h"

#include <c10/core/Stream.h>
#include <c10/core/StreamGuard.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace prn::stream {

struct RunnerOptions {
  Precision precision = Precision::Float32; // autocast; the maps are float32 whatever it is
  // CUDA only (ignored on the CPU): one CUDA graph per tile batch size, captured
  // at its first call or prepare(); its memory is kept until the runner goes.
  bool cuda_graphs = false;
  // CUDA only: cuDNN times its algorithms for each new shape and keeps the
  // fastest. LibTorch keeps this setting per process: once on, it stays on.
  bool cudnn_benchmark = true;
};

class ModelRunner {
public:
  // `model` in eval mode, on `device` ("cuda" without an index: the current GPU).
  ModelRunner(PrnModel model, torch::Device device, RunnerOptions options = {});
  ~ModelRunner();
  ModelRunner(const ModelRunner &) = delete;
  ModelRunner &operator=(const ModelRunner &) = delete;

  // Anomaly maps (N, 1, S, S) float32 on the device for tiles (N, 3, S, S)
  // float32 in [0, 1] on the CPU or the device. Throws prn::Error on bad tiles
  // (as the model's check_input) or, with cuda_graphs, when a capture fails.
  torch::Tensor run(const torch::Tensor &tiles);
  // One call on `n` blank tiles (a warm-up): kernels, cuDNN's choices, and with
  // cuda_graphs the capture of that batch size, done before the first real call.
  void prepare(int64_t n);

  const torch::Device &device() const { return device_; }
  const RunnerOptions &options() const { return options_; }
  // The CUDA stream the runner works on; nullopt on the CPU (or a build without
  // the CUDA kernels, where CUDA work stays on LibTorch's current stream).
  std::optional<c10::Stream> stream() const;
  // Whether calls replay CUDA graphs: cuda_graphs on a CUDA device, in a build
  // with the CUDA kernels.
  bool captures_graphs() const { return cuda_ != nullptr && options_.cuda_graphs; }
  // Tile batch sizes captured in CUDA graphs so far.
  int64_t graphs() const;

  // Makes the runner's stream the current one of this thread while alive, for
  // the other CUDA work of a call (the line scanner's kernels and copies);
  // nothing on the CPU.
  class StreamScope {
  public:
    explicit StreamScope(const ModelRunner &runner);
    StreamScope(const StreamScope &) = delete;
    StreamScope &operator=(const StreamScope &) = delete;

  private:
    std::optional<c10::StreamGuard> guard_;
  };

  struct Cuda; // the stream and the graphs (model_runner.cpp)

private:
  PrnModel model_;
  torch::Device device_;
  RunnerOptions options_;
  std::unique_ptr<Cuda> cuda_;
};

} // namespace prn::stream
