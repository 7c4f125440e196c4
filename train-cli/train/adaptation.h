// prn-train: the encoder adaptation of the no-ImageNet fallback, on the
// training batches (docs/training.md, "Without ImageNet weights").
#pragma once

#include "train/batcher.h"

#include "prn/encoder.h"
#include "prn/reducer.h"

#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <functional>

namespace prn::train {

struct AdaptationParams {
  int64_t steps = 0; // 0: no adaptation (a random encoder with fitted BatchNorm)
  double lr = 1e-3;
  uint64_t seed = 0;
  int workers = 2;
};

// Adapts `encoder` (random, BatchNorm fitted) on batches made like the
// training batches (same pool and recipe, its own seed stream so the training
// batches stay those of a run without adaptation), on `device`, with a
// progress bar on `out`. stop() is asked after every step (a collective in a
// data-parallel run: every rank must ask it); true stops the adaptation and
// this returns false. The encoder is frozen again and back on the CPU afterwards.
bool adapt_fallback_encoder(EncoderImpl &encoder, const TrainingPool &pool, const BatchRecipe &recipe,
                            const AdaptationParams &params, Shard shard, torch::Device device, Reducer *reducer,
                            const std::function<bool()> &stop, std::FILE *out);

} // namespace prn::train
