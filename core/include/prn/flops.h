// prnanomaly core: the network's cost, counted from its hyper-parameters.
#pragma once

#include "prn/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace prn {

struct StageCost {
  std::string stage;
  double flops = 0; // floating-point operations per tile (a multiply-add counts 2)
};

struct CostReport {
  std::vector<StageCost> stages;
  double total_flops = 0;
  double conv_flops = 0; // the part done by convolutions
};

// FLOPs of one forward pass of one input_size x input_size tile, per stage:
// convolutions, attention matmuls, element-wise q/k/v maps and the prototype
// search (k prototypes per scale); batch-norm, activations, resampling and
// softmax are left out (a few percent).
CostReport count_flops(const ModelConfig &config, int64_t num_prototypes);

} // namespace prn
