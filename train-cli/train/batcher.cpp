#include "batcher.h"

#include "prn/augment/extended.h"
#include "prn/augment/simulated.h"
#include "prn/error.h"
#include "prn/stream/helper_thread.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

namespace prn::train {
namespace {

int64_t pick(at::Generator &gen, int64_t n) { return at::randint(n, {1}, gen).item<int64_t>(); }

torch::Tensor light_flip(const torch::Tensor &img, at::Generator &gen) {
  auto out = img;
  if (at::rand({1}, gen).item<double>() < 0.5)
    out = out.flip(2);
  if (at::rand({1}, gen).item<double>() < 0.5)
    out = out.flip(1);
  return out;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

} // namespace

const char *sample_kind_name(SampleKind k) {
  switch (k) {
  case SampleKind::Normal: return "normal";
  case SampleKind::Extended: return "extended";
  case SampleKind::SimulatedTexture: return "simulated (texture)";
  case SampleKind::SimulatedNormal: return "simulated (normal)";
  }
  return "?";
}

void check_shard(const BatchRecipe &recipe, const Shard &shard) {
  PRN_CHECK(shard.world_size >= 1 && shard.rank >= 0 && shard.rank < shard.world_size, "batch shard: expected a rank in [0, ",
            shard.world_size, "), got ", shard.rank);
  PRN_CHECK(recipe.total() % shard.world_size == 0, "the global batch of ", recipe.total(), " images (--batch ",
            recipe.normal, ",", recipe.extended, ",", recipe.simulated, ") cannot be shared equally by ",
            shard.world_size, " processes: expected a batch total divisible by the world size ", shard.world_size);
}

Batch make_batch(const TrainingPool &pool, const BatchRecipe &recipe, uint64_t seed, int64_t step,
                 const Shard &shard) {
  PRN_CHECK(pool.normals.defined() && pool.normals.size(0) >= 1, "training needs at least one normal image");
  check_shard(recipe, shard);
  const uint64_t step_seed = splitmix64(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step));
  const int64_t n_normal = pool.normals.size(0);
  const int64_t n_seen = pool.seen_images.defined() ? pool.seen_images.size(0) : 0;
  const int64_t extended = n_seen > 0 ? recipe.extended : 0;
  const int64_t S = pool.normals.size(2);
  const int64_t share = recipe.total() / shard.world_size, first = shard.rank * share;
  std::vector<torch::Tensor> images, masks;
  std::vector<SampleKind> kinds;
  images.reserve(static_cast<size_t>(share));
  masks.reserve(static_cast<size_t>(share));
  for (int64_t i = first; i < first + share; ++i) {
    // Sample i has its own generator: its content does not depend on which
    // process makes it.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(splitmix64(step_seed + static_cast<uint64_t>(i)));
    if (i < recipe.normal) {
      images.push_back(light_flip(pool.normals[pick(gen, n_normal)], gen));
      masks.push_back(torch::zeros({1, S, S}));
      kinds.push_back(SampleKind::Normal);
      continue;
    }
    if (i < recipe.normal + extended) {
      const int64_t a = pick(gen, n_seen);
      const int64_t j = pick(gen, n_normal);
      auto r = augment::extend_anomaly(pool.normals[j], pool.seen_images[a], pool.seen_masks[a], gen, {},
                                       pool.foregrounds.defined() ? pool.foregrounds[j] : torch::Tensor());
      images.push_back(r.image);
      masks.push_back(r.mask);
      kinds.push_back(SampleKind::Extended);
      continue;
    }
    auto base = pool.normals[pick(gen, n_normal)];
    const bool normal_fill = pool.textures.empty() || at::rand({1}, gen).item<double>() < recipe.normal_fill;
    torch::Tensor source = normal_fill ? pool.normals[pick(gen, n_normal)]
                                       : pool.textures[static_cast<size_t>(pick(gen, static_cast<int64_t>(pool.textures.size())))];
    auto r = augment::simulate_anomaly(base, source, gen);
    images.push_back(r.image);
    masks.push_back(r.mask);
    kinds.push_back(normal_fill ? SampleKind::SimulatedNormal : SampleKind::SimulatedTexture);
  }
  return {step, torch::stack(images), torch::stack(masks), std::move(kinds)};
}

BatchQueue::BatchQueue(const TrainingPool &pool, BatchRecipe recipe, uint64_t seed, int64_t first_step, int workers,
                       int64_t depth, Shard shard)
    : pool_(pool), recipe_(recipe), shard_(shard), seed_(seed), depth_(std::max<int64_t>(depth, 1)), next_out_(first_step),
      next_claim_(first_step) {
  check_shard(recipe_, shard_);
  for (int i = 0; i < std::max(workers, 1); ++i)
    threads_.emplace_back([this] { work(); });
}

BatchQueue::~BatchQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto &t : threads_)
    t.join();
}

void BatchQueue::work() {
  // One thread per worker: its own OpenMP team would compete with the training
  // loop's for the CPUs (prn/stream/helper_thread.h). Not at::set_num_threads(1):
  // in LibTorch it changes the intra-op thread count of the whole process.
  stream::run_intraop_on_this_thread_only();
  for (;;) {
    int64_t step;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || next_claim_ < next_out_ + depth_; });
      if (stop_)
        return;
      step = next_claim_++;
    }
    try {
      Batch b = make_batch(pool_, recipe_, seed_, step, shard_);
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(step, std::move(b));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_)
        error_ = std::current_exception();
    }
    cv_.notify_all();
  }
}

Batch BatchQueue::next() {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return error_ || ready_.count(next_out_) > 0; });
  if (error_)
    std::rethrow_exception(error_);
  waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Batch b = std::move(ready_.at(next_out_));
  ready_.erase(next_out_);
  ++next_out_;
  lock.unlock();
  cv_.notify_all();
  return b;
}

} // namespace prn::train
