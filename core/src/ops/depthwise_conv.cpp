// depthwise_conv2d: checks and device dispatch.
#include "prn/ops/depthwise_conv.h"

#include "depthwise_conv_kernels.h"

namespace prn::ops {
namespace {

void check_inputs(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias, int64_t stride,
                  int64_t padding, const at::Tensor &residual) {
  TORCH_CHECK(input.defined() && weight.defined(), "depthwise_conv2d: expected defined input and weight");
  TORCH_CHECK(input.dim() == 4 && at::isFloatingType(input.scalar_type()),
              "depthwise_conv2d: expected a (B, C, H, W) floating-point input, got ", input.sizes(), " ",
              input.scalar_type());
  const auto dtype = input.scalar_type();
  const int64_t C = input.size(1);
  TORCH_CHECK(weight.dim() == 4 && weight.size(1) == 1 && weight.size(2) == weight.size(3) && weight.size(2) >= 1 &&
                  C >= 1 && weight.size(0) >= C && weight.size(0) % C == 0 && weight.scalar_type() == dtype,
              "depthwise_conv2d: expected a ", dtype, " weight of shape (", C, " * M, 1, k, k) for ", C,
              " input channels, got ", weight.sizes(), " ", weight.scalar_type());
  TORCH_CHECK(stride >= 1 && padding >= 0, "depthwise_conv2d: expected stride >= 1 and padding >= 0, got stride ",
              stride, ", padding ", padding);
  const int64_t k = weight.size(2);
  const int64_t Ho = (input.size(2) + 2 * padding - k) / stride + 1;
  const int64_t Wo = (input.size(3) + 2 * padding - k) / stride + 1;
  TORCH_CHECK(input.size(2) + 2 * padding >= k && input.size(3) + 2 * padding >= k,
              "depthwise_conv2d: expected an input of at least ", k, " x ", k, " pixels with padding ", padding,
              ", got ", input.sizes());
  TORCH_CHECK(!bias.defined() ||
                  (bias.dim() == 1 && bias.size(0) == weight.size(0) && bias.scalar_type() == dtype),
              "depthwise_conv2d: expected a ", dtype, " bias of shape (", weight.size(0), "), got ", bias.sizes(),
              " ", bias.scalar_type());
  TORCH_CHECK(!residual.defined() ||
                  (residual.sizes() == at::IntArrayRef{input.size(0), weight.size(0), Ho, Wo} &&
                   residual.scalar_type() == dtype),
              "depthwise_conv2d: expected a ", dtype, " residual of shape (", input.size(0), ", ", weight.size(0), ", ",
              Ho, ", ", Wo, "), got ", residual.sizes(), " ", residual.scalar_type());
  const auto same_device = [&](const at::Tensor &t) { return !t.defined() || t.device() == input.device(); };
  TORCH_CHECK(same_device(weight) && same_device(bias) && same_device(residual),
              "depthwise_conv2d: expected every tensor on the input's device ", input.device());
}

} // namespace

at::Tensor depthwise_conv2d(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias,
                            int64_t stride, int64_t padding, const at::Tensor &residual) {
  check_inputs(input, weight, bias, stride, padding, residual);
  const int64_t C = input.size(1), k = weight.size(2);
  if (input.is_cpu() && input.scalar_type() == at::kFloat && !at::GradMode::is_enabled()) {
    const auto cl = at::MemoryFormat::ChannelsLast;
    // (C * M, 1, k, k) -> (k * k, C * M): one row of output-channel weights per tap.
    const at::Tensor taps = weight.reshape({weight.size(0), k * k}).t().contiguous();
    return detail::depthwise_conv2d_cpu(input.contiguous(cl), taps, bias.defined() ? bias.contiguous() : bias,
                                        weight.size(0) / C, k, stride, padding,
                                        residual.defined() ? residual.contiguous(cl) : residual);
  }
  auto out = at::conv2d(input, weight, bias, stride, padding, 1, C);
  if (residual.defined())
    out = out + residual;
  return out.contiguous(at::MemoryFormat::ChannelsLast);
}

} // namespace prn::ops
