// The training batches of prn-train: normal images, extended anomalies and
// simulated anomalies, made on worker threads ahead of the training loop.
#pragma once

#include <torch/torch.h>

#include <condition_variable>
#include <exception>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace prn::train {

// Everything a batch is drawn from, preloaded as tensors.
struct TrainingPool {
  torch::Tensor normals;      // (N, 3, S, S) in [0, 1]
  torch::Tensor seen_images;  // (M, 3, S, S); M may be 0
  torch::Tensor seen_masks;   // (M, 1, S, S)
  std::vector<torch::Tensor> textures; // (3, h, w) foreign textures; empty: augmented normals
  torch::Tensor foregrounds;  // (N, 1, S, S) where extended anomalies may go; undefined: anywhere
};

struct BatchRecipe {
  int64_t normal = 32, extended = 16, simulated = 16;
  // Share of the simulated anomalies filled with an augmented normal image
  // (DRAEM's second source) instead of a foreign texture, when the pool has
  // textures; without textures every fill is a normal image.
  double normal_fill = 0.5;
  int64_t total() const { return normal + extended + simulated; }
};

// Where a sample of a batch comes from.
enum class SampleKind {
  Normal,           // a normal image, randomly flipped
  Extended,         // a seen anomaly's region pasted onto a normal image
  SimulatedTexture, // a Perlin mask filled with a foreign texture
  SimulatedNormal,  // a Perlin mask filled with an augmented normal image
};
const char *sample_kind_name(SampleKind k);

struct Batch {
  int64_t step = 0;
  torch::Tensor images; // (B, 3, S, S)
  torch::Tensor masks;  // (B, 1, S, S)
  std::vector<SampleKind> kinds; // one per image
};

// The part of the global batch one process of a data-parallel run makes: of
// the recipe's B = normal + extended + simulated samples (in that order), rank
// r of W makes samples [r * B / W, (r + 1) * B / W).
struct Shard {
  int64_t rank = 0, world_size = 1;
};

// Throws prn::Error naming the values unless B is divisible by the world size
// and the rank is in [0, world size).
void check_shard(const BatchRecipe &recipe, const Shard &shard);

// Batch `step` of a run with `seed`, or a shard of it: a pure function of
// (seed, step) whose sample i depends on (seed, step, i) only, so a resumed run
// sees exactly the batches it would have seen, and the shards of W processes
// together are the batch of one. Extended anomalies need seen anomalies;
// without any, their share goes to simulated ones.
Batch make_batch(const TrainingPool &pool, const BatchRecipe &recipe, uint64_t seed, int64_t step,
                 const Shard &shard = {});

// Makes batches (this process's shard of them) first_step, first_step + 1, ... on `workers` threads, keeping up to
// `depth` ready; next() returns them in order. Stops its threads when destroyed.
class BatchQueue {
public:
  BatchQueue(const TrainingPool &pool, BatchRecipe recipe, uint64_t seed, int64_t first_step, int workers,
             int64_t depth, Shard shard = {});
  ~BatchQueue();
  BatchQueue(const BatchQueue &) = delete;
  BatchQueue &operator=(const BatchQueue &) = delete;

  // The next batch in step order; rethrows an error a worker met.
  Batch next();
  // Seconds next() spent waiting for a batch so far (the loop starving).
  double waited_seconds() const { return waited_; }

private:
  void work();

  const TrainingPool &pool_;
  BatchRecipe recipe_;
  Shard shard_;
  uint64_t seed_;
  int64_t depth_;
  int64_t next_out_, next_claim_;
  bool stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Batch> ready_;
  std::vector<std::thread> threads_;
  double waited_ = 0;
  std::exception_ptr error_;
};

} // namespace prn::train
