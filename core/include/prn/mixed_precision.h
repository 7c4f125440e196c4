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
// Whether this CPU has bfloat16 instructions (the avx512_bf16 or amx_bf16 flag in
// /proc/cpuinfo); without them bf16 autocast is an emulation. Having them does not
// make bf16 faster: see cpu_bf16_conv_speedup. False where /proc/cpuinfo cannot be read.
bool cpu_has_native_bf16();

// How many times faster this CPU runs a 3x3 convolution (8x128x32x32 -> 128,
// channels-last, LibTorch's current thread count) in bfloat16 than in float32:
// the best of 5 timed runs of each after a warm-up, 0.1-0.3 s in all. 0 where
// the CPU has no bfloat16 instructions (nothing is timed). Measured: 0.60-0.67x
// on an Intel Xeon with AVX-512 BF16 but no AMX; prn-bench's larger convolution
// gave about 6x with AMX and 2.1x on an AMD EPYC with AVX-512 BF16
// (docs/training.md, "Mixed precision"). Uses no random generator.
double cpu_bf16_conv_speedup();

// The precision `--precision auto` takes on the CPU: bf16 where cpu_bf16_conv_speedup
// is at least `kAutoBf16Speedup`, else fp32; `speedup` is that measurement (0:
// no bfloat16 instructions).
constexpr double kAutoBf16Speedup = 1.2;
Precision auto_precision_for(double speedup);
struct AutoPrecision {
  Precision precision;
  double speedup;
};
AutoPrecision auto_cpu_precision();
// Why `auto` took `taken`, for the user: "bf16 (a 3x3 convolution ran 2.10x as fast
// in bf16 as in fp32 here; bf16 from 1.2x)", or "fp32 (this CPU has no bfloat16
// instructions)" when `speedup` is 0.
std::string auto_precision_reason(Precision taken, double speedup);

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
