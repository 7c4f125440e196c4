// prnanomaly op: residual of each feature map to its nearest prototype.
#pragma once

#include <ATen/ATen.h>

#include <tuple>

namespace prn::ops {

// features: (B, C, H, W) float32; prototypes: (K, C, H, W) float32, same device,
// in any memory layout (prototypes in the features' layout are not converted;
// the residual has the features' layout: NCHW or channels-last).
// For each image b, k*(b) = argmin_k ||features[b] - prototypes[k]||_2 over the
// whole map (ties: the lowest k); residual[b] = (features[b] - prototypes[k*(b)])^2.
// Returns (residual (B,C,H,W), k* (B) int64). Differentiable in features;
// prototypes are constants. Runs on CPU, and on CUDA with a CUDA kernel when
// built with one (else with ATen ops on the tensors' device).
std::tuple<at::Tensor, at::Tensor> nearest_prototype_residual(const at::Tensor &features,
                                                              const at::Tensor &prototypes);

// The same computed with plain ATen ops on any device: the reference the
// kernels are tested against.
std::tuple<at::Tensor, at::Tensor> nearest_prototype_residual_reference(const at::Tensor &features,
                                                                        const at::Tensor &prototypes);

} // namespace prn::ops
