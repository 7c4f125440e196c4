// The depthwise_conv2d op (the fusion's grouped convs): its CPU kernel against
// at::conv2d with groups = C, over multipliers, kernel sizes, strides, padding,
// odd sizes and channel counts that are not multiples of the vector width;
// thread-count independence; the ATen path under autograd and for other dtypes;
// errors that name what was expected.
#include "prn/ops/depthwise_conv.h"
#include "test_util.h"

#include <ATen/Parallel.h>

namespace {

struct Case {
  int64_t B, C, M, k, stride, padding, H, W;
};

at::Tensor grouped_conv_reference(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, const Case &c,
                                  const at::Tensor &residual) {
  auto y = at::conv2d(x, w, b, c.stride, c.padding, 1, c.C);
  return residual.defined() ? y + residual : y;
}

} // namespace

TEST(DepthwiseConv, CpuKernelMatchesGroupedConv2d) {
  c10::InferenceMode guard;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const std::vector<Case> cases{
      {2, 64, 2, 3, 2, 1, 32, 32}, // light's fusion shapes
      {2, 64, 4, 5, 4, 2, 32, 32}, {2, 128, 2, 3, 2, 1, 16, 16},
      {3, 5, 3, 3, 1, 1, 7, 9},   // M without vector code, C below one vector
      {1, 25, 2, 3, 2, 0, 9, 6},  // 50 outputs: three 16-blocks and a scalar tail
      {2, 40, 4, 1, 1, 0, 5, 5},  // 1x1
      {1, 16, 1, 3, 1, 1, 6, 6},  // M = 1: plain depthwise
      {1, 80, 1, 5, 2, 2, 11, 7}, // 64 + 16 outputs
      {2, 20, 2, 3, 3, 1, 4, 4},  // stride above the kernel's reach
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(testing::Message() << "B" << c.B << " C" << c.C << " M" << c.M << " k" << c.k << " s" << c.stride
                                    << " p" << c.padding << " " << c.H << "x" << c.W);
    auto x = at::randn({c.B, c.C, c.H, c.W}, gen);
    auto w = at::randn({c.C * c.M, 1, c.k, c.k}, gen);
    auto b = at::randn({c.C * c.M}, gen);
    const int64_t Ho = (c.H + 2 * c.padding - c.k) / c.stride + 1, Wo = (c.W + 2 * c.padding - c.k) / c.stride + 1;
    auto residual = at::randn({c.B, c.C * c.M, Ho, Wo}, gen);
    for (bool channels_last : {false, true}) {
      auto xi = channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
      for (bool with_bias : {false, true})
        for (bool with_residual : {false, true}) {
          const at::Tensor bb = with_bias ? b : at::Tensor(), rr = with_residual ? residual : at::Tensor();
          auto got = prn::ops::depthwise_conv2d(xi, w, bb, c.stride, c.padding, rr);
          auto want = grouped_conv_reference(x, w, bb, c, rr);
          ASSERT_EQ(got.sizes(), want.sizes());
          EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast));
          EXPECT_LT((got - want).abs().max().item<float>(), 1e-5)
              << "channels_last " << channels_last << ", bias " << with_bias << ", residual " << with_residual;
        }
    }
  }
}

TEST(DepthwiseConv, SameBitsForOneAndTwoThreads) {
  c10::InferenceMode guard;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto x = at::randn({4, 64, 32, 32}, gen).contiguous(at::MemoryFormat::ChannelsLast);
  auto w = at::randn({256, 1, 5, 5}, gen);
  auto b = at::randn({256}, gen);
  auto r = at::randn({4, 256, 8, 8}, gen);
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  auto one = prn::ops::depthwise_conv2d(x, w, b, 4, 2, r);
  at::set_num_threads(2);
  auto two = prn::ops::depthwise_conv2d(x, w, b, 4, 2, r);
  at::set_num_threads(before);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(DepthwiseConv, AutogradAndOtherDtypesRunAten) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  auto x = at::randn({2, 8, 8, 8}, gen).requires_grad_(true);
  auto w = at::randn({16, 1, 3, 3}, gen).requires_grad_(true);
  auto y = prn::ops::depthwise_conv2d(x, w, {}, 2, 1);
  y.sum().backward();
  ASSERT_TRUE(x.grad().defined() && w.grad().defined());
  auto xr = x.detach().clone().requires_grad_(true), wr = w.detach().clone().requires_grad_(true);
  at::conv2d(xr, wr, {}, 2, 1, 1, 8).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), xr.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(w.grad(), wr.grad(), 1e-5, 1e-5));

  c10::InferenceMode guard;
  auto xd = at::randn({1, 4, 6, 6}, gen).to(at::kDouble);
  auto wd = at::randn({8, 1, 3, 3}, gen).to(at::kDouble);
  auto got = prn::ops::depthwise_conv2d(xd, wd, {}, 1, 1);
  EXPECT_EQ(got.scalar_type(), at::kDouble);
  EXPECT_TRUE(torch::allclose(got, at::conv2d(xd, wd, {}, 1, 1, 1, 4), 1e-12, 1e-12));
}

TEST(DepthwiseConv, BadInputNamesWhatWasExpected) {
  c10::InferenceMode guard;
  auto x = at::zeros({2, 4, 8, 8});
  auto w = at::zeros({8, 1, 3, 3});
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(at::zeros({4, 8, 8}), w, {}, 1, 1), "(B, C, H, W)", "[4, 8, 8]");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, at::zeros({6, 1, 3, 3}), {}, 1, 1), "(4 * M, 1, k, k)",
                     "[6, 1, 3, 3]");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, at::zeros({8, 2, 3, 3}), {}, 1, 1), "(4 * M, 1, k, k)");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, at::zeros({8, 1, 3, 5}), {}, 1, 1), "[8, 1, 3, 5]");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, w.to(at::kDouble), {}, 1, 1), "Float weight", "Double");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, w, at::zeros({4}), 1, 1), "bias of shape (8)", "[4]");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, w, {}, 0, 1), "stride >= 1", "stride 0");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, w, {}, 1, -1), "padding >= 0", "padding -1");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(at::zeros({1, 4, 2, 2}), w, {}, 1, 0), "at least 3 x 3",
                     "[1, 4, 2, 2]");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(x, w, {}, 2, 1, at::zeros({2, 8, 8, 8})),
                     "residual of shape (2, 8, 4, 4)", "[2, 8, 8, 8]");
  EXPECT_TORCH_ERROR(prn::ops::depthwise_conv2d(at::zeros({2, 4, 8, 8}, at::kInt), w, {}, 1, 1),
                     "floating-point input", "Int");
}
