// prn-train checkpoints: model, optimiser state and progress in one file.
#pragma once

#include "prn/model.h"

#include <torch/torch.h>

#include <map>
#include <string>

namespace prn::train {

struct CheckpointInfo {
  int64_t step = 0;                         // steps completed
  std::map<std::string, std::string> run;   // config, seed, dataset hash...: must match on resume
};

// Writes model parameters and buffers (prototypes included), the optimiser's
// state and the info, atomically.
void save_checkpoint(const std::string &path, PrnModelImpl &model, torch::optim::Optimizer &optimizer,
                     const CheckpointInfo &info);

// Reads the info of a checkpoint without touching a model.
CheckpointInfo read_checkpoint_info(const std::string &path);

// Restores model and optimiser from a checkpoint written for the same run
// (throws prn::Error naming the file and the first field that differs).
CheckpointInfo load_checkpoint(const std::string &path, PrnModelImpl &model, torch::optim::Optimizer &optimizer,
                               const std::map<std::string, std::string> &expected_run);

} // namespace prn::train
