// prnanomaly core internals: re-estimating BatchNorm running statistics as the
// plain average over a set of forward passes (shared by the encoder's
// data-dependent initialisation and the model's precise BatchNorm).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <utility>
#include <vector>

namespace prn::detail {

// Resets the running statistics of `norms`, switches them to a cumulative
// average (momentum none), calls run() (which makes the forward passes, with the
// modules in training mode), then restores each module's momentum. Training
// mode itself is the caller's business.
template <class Run>
void refit_batchnorm(const std::vector<torch::nn::BatchNorm2dImpl *> &norms, Run &&run) {
  std::vector<std::optional<double>> momenta;
  momenta.reserve(norms.size());
  for (auto *bn : norms) {
    momenta.push_back(bn->options.momentum());
    bn->options.momentum(std::nullopt);
    bn->reset_running_stats();
  }
  {
    torch::NoGradGuard no_grad;
    std::forward<Run>(run)();
  }
  for (size_t i = 0; i < norms.size(); ++i)
    norms[i]->options.momentum(momenta[i]);
}

} // namespace prn::detail
