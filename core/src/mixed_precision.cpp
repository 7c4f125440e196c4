#include "prn/mixed_precision.h"

#include "prn/error.h"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <sstream>

namespace prn {

Precision precision_from_name(const std::string &name) {
  if (name == "fp32")
    return Precision::Float32;
  if (name == "bf16")
    return Precision::BFloat16;
  if (name == "fp16")
    return Precision::Float16;
  throw Error("precision '" + name + "': expected fp32, bf16 or fp16");
}

const char *precision_name(Precision p) {
  switch (p) {
  case Precision::Float32: return "fp32";
  case Precision::BFloat16: return "bf16";
  case Precision::Float16: return "fp16";
  }
  return "?";
}

void check_precision(Precision p, const torch::Device &device) {
  PRN_CHECK(!(p == Precision::Float16 && !device.is_cuda()), "precision fp16 needs a CUDA device (got ",
            device.str(), "); use bf16 on the CPU");
}

bool cpu_has_native_bf16() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0)
      continue;
    std::istringstream words(line.substr(line.find(':') == std::string::npos ? line.size() : line.find(':') + 1));
    std::string flag;
    while (words >> flag)
      if (flag == "avx512_bf16" || flag == "amx_bf16")
        return true;
    return false; // every core lists the same flags
  }
  return false;
}

double cpu_bf16_conv_speedup() {
  if (!cpu_has_native_bf16())
    return 0.0;
  torch::NoGradGuard no_grad;
  const auto cl = at::MemoryFormat::ChannelsLast;
  // Constant operands: the timing does not depend on the values, and no random
  // generator is drawn from (a training run's seeded state stays as it was).
  const auto x = torch::full({8, 128, 32, 32}, 0.5f).contiguous(cl);
  const auto w = torch::full({128, 128, 3, 3}, 0.01f).contiguous(cl);
  const auto best = [](const torch::Tensor &in, const torch::Tensor &weight) {
    double fastest = std::numeric_limits<double>::infinity();
    for (int i = 0; i < 6; ++i) { // the first run creates oneDNN's primitive
      const auto t0 = std::chrono::steady_clock::now();
      const auto y = torch::conv2d(in, weight, {}, 1, 1);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (i > 0)
        fastest = std::min(fastest, s);
    }
    return fastest;
  };
  const double fp32 = best(x, w);
  const double bf16 = best(x.to(torch::kBFloat16), w.to(torch::kBFloat16));
  return fp32 / std::max(bf16, 1e-12);
}

Precision auto_precision_for(double speedup) {
  return speedup >= kAutoBf16Speedup ? Precision::BFloat16 : Precision::Float32;
}

AutoPrecision auto_cpu_precision() {
  const double speedup = cpu_bf16_conv_speedup();
  return {auto_precision_for(speedup), speedup};
}

std::string auto_precision_reason(Precision taken, double speedup) {
  if (speedup == 0.0)
    return std::string(precision_name(taken)) + " (this CPU has no bfloat16 instructions)";
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(2);
  os << precision_name(taken) << " (a 3x3 convolution ran " << speedup << "x as fast in bf16 as in fp32 here; bf16 from ";
  os.precision(1);
  os << kAutoBf16Speedup << "x)";
  return os.str();
}

AutocastGuard::AutocastGuard(const torch::Device &device, Precision p) {
  if (p == Precision::Float32)
    return;
  check_precision(p, device);
  type_ = device.type();
  was_enabled_ = at::autocast::is_autocast_enabled(type_);
  was_dtype_ = at::autocast::get_autocast_dtype(type_);
  at::autocast::set_autocast_enabled(type_, true);
  at::autocast::set_autocast_dtype(type_, p == Precision::BFloat16 ? at::kBFloat16 : at::kHalf);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_)
    return;
  if (at::autocast::decrement_nesting() == 0)
    at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, was_dtype_);
}

LossScaler::LossScaler(double initial, int64_t interval) : scale_(initial), interval_(interval) {
  PRN_CHECK(initial > 0 && interval >= 1, "LossScaler: expected a positive scale and interval, got ", initial, " and ",
            interval);
}

bool LossScaler::step(torch::optim::Optimizer &optimizer, const std::vector<torch::Tensor> &params) {
  bool finite = true;
  {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor &p : params) {
      if (!p.grad().defined())
        continue;
      p.mutable_grad().div_(scale_);
      finite = finite && torch::isfinite(p.grad()).all().item<bool>();
    }
  }
  if (!finite) {
    scale_ *= 0.5;
    good_ = 0;
    ++skipped_;
    return false;
  }
  optimizer.step();
  if (++good_ >= interval_) {
    scale_ *= 2.0;
    good_ = 0;
  }
  return true;
}

} // namespace prn
