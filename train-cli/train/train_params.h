// prn-train's command line: its options, usage text and parsing.
#pragma once

#include "train/batcher.h"
#include "train/distributed.h"
#include "train/foreground.h"

#include "prn/config.h"
#include "prn/lr_schedule.h"
#include "prn/train_step.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace prn::train {

struct TrainParams {
  std::string data, layout = "auto", out, log_dir;
  std::string config = "paper";
  double map_sigma = 0; // --map-sigma: Gaussian smoothing of the anomaly map, recorded in the bundle
  // --input-size, --channels, --patch-divisors, --attention-blocks, --head-channels:
  // the model's structure over --config's (empty: the configuration's own).
  std::vector<int64_t> channels, patch_divisors;
  std::optional<int64_t> input_size, attention_blocks, head_channels;
  int64_t epochs = 700, steps = 0;
  prn::train::BatchRecipe recipe;
  prn::train::Foreground foreground = prn::train::Foreground::None; // --foreground
  int64_t seen = 10;
  std::string seen_folder, textures, backbone, resume;
  std::string preview; // --preview PNG: write batch 0 as a PNG grid and exit
  std::vector<std::string> seen_kinds; // draw seen anomalies from these defect kinds only
  double lr = 1e-4, weight_decay = 1e-2, holdout = 0.1;
  prn::WeightDecay optimizer = prn::WeightDecay::Decoupled; // --optimizer adamw | adam
  prn::LrSchedule lr_schedule = prn::LrSchedule::Constant;  // --lr-schedule constant | cosine
  uint64_t seed = 0;
  int threads = 0, workers = 2;
  int64_t checkpoint_every = 10; // epochs
  int64_t bn_batches = 20;
  int64_t stop_after = 0; // steps in this invocation; 0: no limit
  int64_t adapt_steps = -1; // encoder adaptation without --backbone; -1: the default (0, none)
  double adapt_lr = 1e-3;
  std::string device = "cpu";
  std::string precision = "fp32";
  prn::train::DistOptions dist; // data parallel: --world-size, --rank, --local-rank, --master
};

// The usage text, on stdout.
void usage();

// Parses and checks the options; throws prn::Error naming a bad one. --help
// prints the usage and exits 0.
TrainParams parse_train_params(int argc, char **argv);

// --config with --map-sigma and the structure options applied and checked; a
// changed structure is named in the configuration's name (for example
// "paper+channels=64-128-256+attention_blocks=1"), which the bundle and the
// checkpoints record.
// Throws prn::Error naming the option whose value the configuration refuses.
prn::ModelConfig model_config(const TrainParams &p);

} // namespace prn::train
