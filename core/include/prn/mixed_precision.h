// prnanomaly core: mixed-precision training (autocast for the forward pass,
// dynamic loss scaling for float16), as torch.autocast and GradScaler do.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace prn {

enum class Precision { Float32, BFloat16, Float16 };

// "fp32", "bf16", "fp16"; throws prn::Error naming the accepted names.
Precision precision_from_name(const std::string &name);
const char *precision_name(Precision p);
// Throws prn::Error when `p` cannot run on `device` (fp16 needs CUDA; bf16 runs
// on CUDA and on the CPU).
void check_precision(Precision p, const torch::Device &device);
// Whether this CPU computes bfloat16 natively (the avx512_bf16 or amx_bf16 flag
// in /proc/cpuinfo), where bf16 autocast is a speed-up rather than an emulation.
// False where /proc/cpuinfo cannot be read.
bool cpu_has_native_bf16();

// Autocast to the precision's dtype on `device` while alive (nothing for fp32).
class AutocastGuard {
public:
  AutocastGuard(const torch::Device &device, Precision p);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard &) = delete;
  AutocastGuard &operator=(const AutocastGuard &) = delete;

private:
  bool active_ = false;
  at::DeviceType type_ = at::kCPU;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

// Dynamic loss scaling for float16: the loss is multiplied by the scale before
// backward; gradients are divided by it before the step; a step whose gradients
// hold Inf/NaN is skipped and the scale halved; after `interval` good steps the
// scale doubles.
class LossScaler {
public:
  explicit LossScaler(double initial = 65536.0, int64_t interval = 2000);
  torch::Tensor scale(const torch::Tensor &loss) const { return loss * scale_; }
  // Unscales the gradients of `params`, steps unless one is not finite, updates
  // the scale. Returns whether the optimiser stepped.
  bool step(torch::optim::Optimizer &optimizer, const std::vector<torch::Tensor> &params);
  double value() const { return scale_; }
  int64_t skipped() const { return skipped_; }

private:
  double scale_;
  int64_t interval_, good_ = 0, skipped_ = 0;
};

} // namespace prn
