// prnanomaly op: a 3x3 convolution (stride 1, zero padding 1) by Winograd's
// minimal filtering F(4x4, 3x3), for CPU inference.
//
// Each 4x4 block of output pixels is computed from a 6x6 block of input as
// A^T [ (G g G^T) . (B^T d B) ] A (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): 36 multiplications per input channel
// where the direct convolution does 144, the channel sums being 36 matrix
// products (tiles x C) x (C x K). Float32 rounding differs from the direct
// convolution's: on unit-scale data the outputs differ by a few 1e-5 (measured
// in the op's tests and in docs/performance.md).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace prn::ops {

// The filter transform: weight (K, C, 3, 3) floating point -> (36, C, K) of the
// weight's dtype, U[6a + b][c][k] = (G w[k][c] G^T)[a][b], computed in double
// and rounded once. Done once per weight (ConvBnFold caches it).
at::Tensor winograd_weight(const at::Tensor &weight);

// Whether winograd_conv3x3 serves conv2d(input, weight, bias, stride, padding,
// dilation, groups) on this machine, and is worth it: float32 CPU input in
// channels-last layout, autograd off, weight (K, C, 3, 3) on the CPU, stride 1,
// padding 1, dilation 1, one group, C and K multiples of 16 with C >= 64 and
// K >= 32 (narrower convs ran slower than oneDNN's direct one, see
// docs/performance.md).
bool winograd_applies(const at::Tensor &input, const at::Tensor &weight, at::IntArrayRef stride,
                      at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups);

// input (B, C, H, W) float32 on the CPU (any layout; channels-last avoids a
// copy); transformed (36, C, K) from winograd_weight; bias (K) or undefined.
// Returns conv2d(input, weight, bias, stride 1, padding 1), channels-last.
// Autograd does not see through it: inference only.
at::Tensor winograd_conv3x3(const at::Tensor &input, const at::Tensor &transformed, const at::Tensor &bias);

} // namespace prn::ops
