#include "train/adaptation.h"

#include "common/progress.h"

#include "prn/encoder_adaptation.h"

#include <cstdio>

namespace prn::train {

bool adapt_fallback_encoder(EncoderImpl &encoder, const TrainingPool &pool, const BatchRecipe &recipe,
                            const AdaptationParams &params, Shard shard, torch::Device device, Reducer *reducer,
                            const std::function<bool()> &stop, std::FILE *out) {
  // A seed stream of its own: batch n of the adaptation is a pure function of
  // (seed, n) like the training batches, but not the same batches.
  const uint64_t batch_seed = params.seed ^ 0x5eedada97ULL;
  BatchQueue queue(pool, recipe, batch_seed, 0, params.workers, 2 * params.workers, shard);
  AdaptationOptions o;
  o.steps = params.steps;
  o.lr = params.lr;
  o.seed = params.seed;
  encoder.to(device);
  prn::cli::Progress bar("adapt encoder", params.steps, "step", out);
  bool stopped = false;
  adapt_encoder(
      encoder,
      [&] {
        auto b = queue.next();
        return std::make_pair(b.images.to(device), b.masks.to(device));
      },
      o, reducer,
      [&](int64_t step, const StepLosses &l) {
        char extra[96];
        std::snprintf(extra, sizeof extra, "loss %.4f focal %.4f sl1 %.4f", l.total, l.focal, l.smooth_l1);
        bar.update(step, extra);
        stopped = stop();
        return !stopped;
      });
  bar.finish();
  encoder.to(torch::kCPU);
  return !stopped;
}

} // namespace prn::train
