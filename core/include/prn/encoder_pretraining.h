// prnanomaly core: pretraining the ResNet-18 encoder to tell textures apart, a
// stand-in for ImageNet weights where torchvision's resnet18 file cannot be had
// (docs/training.md, "Without ImageNet weights"). prn-pretrain-backbone runs it
// and writes a file prn-train --backbone takes.
#pragma once

#include "prn/encoder.h"
#include "prn/mixed_precision.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

namespace prn {

struct EncoderPretrainingOptions {
  int64_t steps = 1500;
  double lr = 2e-3;            // AdamW, cosine decay to 0 over the steps
  double weight_decay = 1e-4;  // AdamW's decoupled decay
  uint64_t seed = 0;           // the classifier's initialisation
  // bf16: the forward pass under autocast (the convolutions in bfloat16; the
  // weights, their gradients, the optimiser state and the loss stay float32).
  // Measured: about 1.9x faster with AMX, 1.3x slower on an Intel Xeon with
  // AVX-512 BF16 but no AMX (docs/training.md, "Mixed precision").
  Precision precision = Precision::Float32;
};

struct PretrainingStep {
  double loss = 0;      // cross-entropy of the batch
  double accuracy = 0;  // share of the batch classified right (before the step)
  double lr = 0;        // the learning rate this step used
};

// Trains `encoder` (every parameter and its BatchNorm statistics) with a linear
// classifier on layer3's globally averaged features (256 -> classes), cross-entropy,
// AdamW. next_batch(i) returns batch i: images (B, 3, S, S) in [0, 1] and labels
// (B) int64 in [0, classes). Afterwards the encoder is frozen again
// (set_trainable(false)), its conv weights in the contiguous layout (training
// runs channels-last), and the classifier is discarded. on_step(step, info)
// after every step (1-based); returning false stops early. Returns the steps
// done. Throws prn::Error on bad options (fp16 among them), a malformed batch or
// a non-finite loss.
int64_t pretrain_encoder(EncoderImpl &encoder, int64_t classes,
                         const std::function<std::pair<torch::Tensor, torch::Tensor>(int64_t)> &next_batch,
                         const EncoderPretrainingOptions &options,
                         const std::function<bool(int64_t, const PretrainingStep &)> &on_step = {});

// The encoder's tensors under torchvision's resnet18 names (conv1, bn1,
// layer1-3; what EncoderImpl::load_torchvision reads back), on the CPU.
std::map<std::string, torch::Tensor> encoder_state_dict(EncoderImpl &encoder);

} // namespace prn
