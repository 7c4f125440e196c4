// The winograd_conv3x3 op (F(4x4, 3x3), CPU inference) against at::conv2d over
// batch sizes, channel counts and map sizes that leave partial tiles; when it
// applies; errors that name what was expected; ConvBnFold and the whole light
// forward with it against the direct convolution (ConvAlgorithmGuard).
#include "prn/conv_bn_fold.h"
#include "prn/ops/winograd_conv.h"
#include "test_util.h"

namespace {

struct WinogradCase {
  int64_t B, C, K, H, W;
};

// Largest |got - want| relative to the largest |want| (at least 1).
double winograd_relative_error(const at::Tensor &got, const at::Tensor &want) {
  return (got - want).abs().max().item<double>() / std::max(1.0, want.abs().max().item<double>());
}

// Measured on these cases: 1.2e-7 to 8.8e-6; a wrong transform coefficient gives
// errors of the output's own size.
constexpr double kWinogradTolerance = 5e-5;

} // namespace

TEST(WinogradConv, MatchesConv2d) {
  c10::InferenceMode guard;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(21);
  const std::vector<WinogradCase> cases{
      {8, 64, 64, 32, 32},  // light's layer1
      {2, 256, 256, 8, 8},  // light's layer3
      {2, 96, 32, 32, 32},  // light's attention reduction
      {1, 64, 32, 7, 5},    // partial tiles on both sides
      {3, 16, 16, 4, 4},    // one tile per image, one vector of channels
      {1, 32, 48, 1, 1},    // a single pixel: only the centre tap sees data
      {2, 128, 64, 13, 17}, // more tiles than one block of 60
      {1, 64, 16, 62, 3},   // blocks that end inside an image
  };
  for (const WinogradCase &c : cases) {
    SCOPED_TRACE(testing::Message() << "B" << c.B << " C" << c.C << " K" << c.K << " " << c.H << "x" << c.W);
    auto x = at::randn({c.B, c.C, c.H, c.W}, gen);
    auto w = at::randn({c.K, c.C, 3, 3}, gen) / std::sqrt(9.0 * static_cast<double>(c.C));
    auto b = at::randn({c.K}, gen);
    const auto u = prn::ops::winograd_weight(w);
    ASSERT_EQ(u.sizes(), (std::vector<int64_t>{36, c.C, c.K}));
    for (bool channels_last : {false, true})
      for (bool with_bias : {false, true}) {
        auto xi = channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
        const at::Tensor bb = with_bias ? b : at::Tensor();
        auto got = prn::ops::winograd_conv3x3(xi, u, bb);
        auto want = at::conv2d(x, w, bb, 1, 1);
        ASSERT_EQ(got.sizes(), want.sizes());
        EXPECT_TRUE(got.is_contiguous(at::MemoryFormat::ChannelsLast));
        EXPECT_LT(winograd_relative_error(got, want), kWinogradTolerance)
            << "channels_last " << channels_last << ", bias " << with_bias;
      }
  }
}

TEST(WinogradConv, EachImageAsAlone) {
  c10::InferenceMode guard;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(22);
  auto x = at::randn({5, 64, 12, 20}, gen).contiguous(at::MemoryFormat::ChannelsLast);
  const auto u = prn::ops::winograd_weight(at::randn({32, 64, 3, 3}, gen) / 24.0);
  auto all = prn::ops::winograd_conv3x3(x, u, {});
  for (int64_t i = 0; i < 5; ++i) {
    auto alone = prn::ops::winograd_conv3x3(x.narrow(0, i, 1), u, {});
    EXPECT_LT(winograd_relative_error(all.narrow(0, i, 1), alone), 1e-5) << "image " << i;
  }
}

TEST(WinogradConv, AppliesOnlyWhereItServesAndPays) {
  auto x = at::zeros({2, 64, 16, 16}).contiguous(at::MemoryFormat::ChannelsLast);
  auto w = at::zeros({64, 64, 3, 3});
  const auto applies = [](const at::Tensor &xi, const at::Tensor &wi, int64_t stride = 1, int64_t padding = 1,
                          int64_t dilation = 1, int64_t groups = 1) {
    return prn::ops::winograd_applies(xi, wi, {stride, stride}, {padding, padding}, {dilation, dilation}, groups);
  };
  {
    c10::InferenceMode guard;
    EXPECT_TRUE(applies(x, w));
    EXPECT_TRUE(prn::ops::winograd_applies(x, w, {1}, {1}, {1}, 1)); // one number for both sides
    EXPECT_TRUE(applies(x, at::zeros({32, 64, 3, 3})));
    EXPECT_FALSE(applies(x, w, 2)) << "stride 2";
    EXPECT_FALSE(applies(x, w, 1, 0)) << "padding 0";
    EXPECT_FALSE(applies(x, w, 1, 1, 2)) << "dilation 2";
    EXPECT_FALSE(applies(x, at::zeros({64, 32, 3, 3}), 1, 1, 1, 2)) << "groups";
    EXPECT_FALSE(applies(x, at::zeros({64, 64, 1, 1}), 1, 0)) << "1x1";
    EXPECT_FALSE(applies(x, at::zeros({16, 64, 3, 3}))) << "K 16: slower than direct";
    EXPECT_FALSE(applies(at::zeros({2, 48, 16, 16}).contiguous(at::MemoryFormat::ChannelsLast),
                         at::zeros({64, 48, 3, 3})))
        << "C 48: slower than direct";
    EXPECT_FALSE(applies(at::zeros({2, 72, 8, 8}).contiguous(at::MemoryFormat::ChannelsLast),
                         at::zeros({64, 72, 3, 3})))
        << "C not a multiple of 16";
    EXPECT_FALSE(applies(x.contiguous(), w)) << "NCHW input";
    EXPECT_FALSE(applies(x.to(at::kDouble), w.to(at::kDouble))) << "float64";
  }
  EXPECT_FALSE(applies(x, w)) << "autograd on";
}

TEST(WinogradConv, BadInputNamesWhatWasExpected) {
  c10::InferenceMode guard;
  auto x = at::zeros({2, 64, 8, 8});
  auto u = prn::ops::winograd_weight(at::zeros({32, 64, 3, 3}));
  EXPECT_TORCH_ERROR(prn::ops::winograd_weight(at::zeros({32, 64, 5, 5})), "(K, C, 3, 3)", "[32, 64, 5, 5]");
  EXPECT_TORCH_ERROR(prn::ops::winograd_weight(at::zeros({32, 64, 3, 3}, at::kInt)), "floating-point", "Int");
  EXPECT_TORCH_ERROR(prn::ops::winograd_conv3x3(at::zeros({64, 8, 8}), u, {}), "(B, C, H, W)", "[64, 8, 8]");
  EXPECT_TORCH_ERROR(prn::ops::winograd_conv3x3(x.to(at::kDouble), u, {}), "float32", "Double");
  EXPECT_TORCH_ERROR(prn::ops::winograd_conv3x3(at::zeros({2, 48, 8, 8}), u, {}), "(36, 48, K)", "[36, 64, 32]");
  const auto narrow = prn::ops::winograd_weight(at::zeros({8, 8, 3, 3}));
  EXPECT_TORCH_ERROR(prn::ops::winograd_conv3x3(at::zeros({2, 8, 8, 8}), narrow, {}), "multiples of 16", "8 and 8");
  EXPECT_TORCH_ERROR(prn::ops::winograd_conv3x3(x, u, at::zeros({16})), "bias of shape (32)", "[16]");
  EXPECT_TORCH_ERROR(prn::ops::winograd_conv3x3(at::zeros({0, 64, 8, 8}), u, {}), "non-empty", "[0, 64, 8, 8]");
}

TEST(WinogradConv, FoldServesItAndTheGuardTurnsItOff) {
  namespace nn = torch::nn;
  nn::Conv2d conv(nn::Conv2dOptions(64, 64, 3).padding(1));
  nn::BatchNorm2d bn(64);
  torch::NoGradGuard no_grad;
  bn->running_mean.copy_(torch::randn({64}) * 0.1);
  bn->running_var.copy_(torch::rand({64}) + 0.5);
  bn->eval();
  auto x = torch::randn({2, 64, 16, 16}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto want = bn(conv(x));
  prn::ConvBnFold fold;
  const auto winograd = fold.apply(*conv, *bn, x);
  at::Tensor direct;
  {
    prn::ConvAlgorithmGuard guard(prn::ConvAlgorithm::direct);
    EXPECT_EQ(prn::ConvAlgorithmGuard::current(), prn::ConvAlgorithm::direct);
    direct = *fold.apply(*conv, *bn, x);
  }
  EXPECT_EQ(prn::ConvAlgorithmGuard::current(), prn::ConvAlgorithm::automatic);
  ASSERT_TRUE(winograd.has_value());
  EXPECT_LT(winograd_relative_error(*winograd, want), kWinogradTolerance);
  EXPECT_LT(winograd_relative_error(direct, want), 1e-5);
  EXPECT_FALSE(torch::equal(*winograd, direct)) << "the automatic choice should have run Winograd here";
  EXPECT_EQ(fold.builds(), 1) << "one fold serves both algorithms";
}

TEST(WinogradConv, LightForwardMatchesTheDirectConvolution) {
  auto model = prn::test::fitted_light_model(4, 3, 6);
  model->eval();
  prn::SyntheticTextures gen(128, 9);
  auto x = gen.normal_images(3);
  torch::InferenceMode guard;
  auto automatic = torch::sigmoid(model->forward(x));
  at::Tensor direct;
  {
    prn::ConvAlgorithmGuard direct_guard(prn::ConvAlgorithm::direct);
    direct = torch::sigmoid(model->forward(x));
  }
  const double diff = (automatic - direct).abs().max().item<double>();
  EXPECT_LT(diff, 1e-4);
  EXPECT_GT(diff, 0.0) << "light's encoder convs should have run Winograd";
}
