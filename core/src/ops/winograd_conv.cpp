// winograd_conv3x3: checks, the filter transform and device dispatch.
#include "prn/ops/winograd_conv.h"

#include "winograd_conv_kernels.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace prn::ops {
namespace {

constexpr int64_t kWinogradLanes = 16; // the kernel's vector width in floats

// G of F(4x4, 3x3) (Lavin and Gray 2016, interpolation points 0, 1, -1, 2, -2, infinity).
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

bool is_pair(at::IntArrayRef v, int64_t value) {
  return (v.size() == 1 || v.size() == 2) && v.front() == value && v.back() == value;
}

} // namespace

at::Tensor winograd_weight(const at::Tensor &weight) {
  TORCH_CHECK(weight.defined() && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 &&
                  at::isFloatingType(weight.scalar_type()),
              "winograd_weight: expected a floating-point (K, C, 3, 3) weight, got ",
              weight.defined() ? weight.sizes() : at::IntArrayRef{}, " ",
              weight.defined() ? weight.scalar_type() : at::ScalarType::Undefined);
  const auto g = at::from_blob(const_cast<double *>(&kG[0][0]), {6, 3}, at::TensorOptions().dtype(at::kDouble))
                     .to(weight.device());
  const int64_t K = weight.size(0), C = weight.size(1);
  auto out = at::empty({6, 6, C, K}, weight.options());
  // U[a][b][c][k] = sum_ij G[a][i] w[k][c][i][j] G[b][j], 64 output channels at
  // a time so the double-precision temporaries stay small (paper: 9.4 M weights).
  for (int64_t k0 = 0; k0 < K; k0 += 64) {
    const int64_t n = std::min<int64_t>(64, K - k0);
    const auto w = weight.narrow(0, k0, n).to(at::kDouble);
    out.narrow(3, k0, n).copy_(at::einsum("ai,kcij,bj->abck", {g, w, g}));
  }
  return out.view({36, C, K});
}

bool winograd_applies(const at::Tensor &input, const at::Tensor &weight, at::IntArrayRef stride,
                      at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups) {
  if (!input.defined() || !weight.defined() || at::GradMode::is_enabled())
    return false;
  if (!input.is_cpu() || !weight.is_cpu() || input.scalar_type() != at::kFloat ||
      weight.scalar_type() != at::kFloat || input.dim() != 4 || weight.dim() != 4 ||
      !input.is_contiguous(at::MemoryFormat::ChannelsLast))
    return false;
  const int64_t K = weight.size(0), C = weight.size(1);
  return weight.size(2) == 3 && weight.size(3) == 3 && input.size(1) == C && groups == 1 && is_pair(stride, 1) &&
         is_pair(padding, 1) && is_pair(dilation, 1) && C % kWinogradLanes == 0 && K % kWinogradLanes == 0 &&
         C >= 64 && K >= 32;
}

at::Tensor winograd_conv3x3(const at::Tensor &input, const at::Tensor &transformed, const at::Tensor &bias) {
  TORCH_CHECK(input.defined() && transformed.defined(), "winograd_conv3x3: expected defined input and weights");
  TORCH_CHECK(input.dim() == 4 && input.scalar_type() == at::kFloat && input.is_cpu(),
              "winograd_conv3x3: expected a float32 (B, C, H, W) input on the CPU, got ", input.sizes(), " ",
              input.scalar_type(), " on ", input.device());
  const int64_t C = input.size(1);
  TORCH_CHECK(transformed.dim() == 3 && transformed.size(0) == 36 && transformed.size(1) == C &&
                  transformed.scalar_type() == at::kFloat && transformed.is_cpu(),
              "winograd_conv3x3: expected float32 transformed weights of shape (36, ", C, ", K) on the CPU, got ",
              transformed.sizes(), " ", transformed.scalar_type(), " on ", transformed.device());
  const int64_t K = transformed.size(2);
  TORCH_CHECK(C % kWinogradLanes == 0 && K % kWinogradLanes == 0 && C > 0 && K > 0,
              "winograd_conv3x3: expected input and output channels that are positive multiples of ", kWinogradLanes,
              ", got ", C, " and ", K);
  TORCH_CHECK(input.size(0) >= 1 && input.size(2) >= 1 && input.size(3) >= 1,
              "winograd_conv3x3: expected a non-empty input, got ", input.sizes());
  TORCH_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == K && bias.scalar_type() == at::kFloat &&
                                  bias.is_cpu()),
              "winograd_conv3x3: expected a float32 bias of shape (", K, ") on the CPU, got ",
              bias.defined() ? bias.sizes() : at::IntArrayRef{}, " ",
              bias.defined() ? bias.scalar_type() : at::ScalarType::Undefined);
  TORCH_CHECK(!at::GradMode::is_enabled() || !(input.requires_grad() || transformed.requires_grad() ||
                                               (bias.defined() && bias.requires_grad())),
              "winograd_conv3x3: inference only, expected no tensor that requires grad");
  const auto b = bias.defined() ? bias.contiguous() : at::zeros({K}, input.options());
  return detail::winograd_conv3x3_cpu(input.contiguous(at::MemoryFormat::ChannelsLast), transformed.contiguous(), b);
}

} // namespace prn::ops
