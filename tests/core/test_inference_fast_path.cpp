// The inference fast path: BatchNorm folded into the convs, channels-last maps,
// in-place activations, the reduced attention algebra. Equal to the plain
// eval-mode forward up to float rounding, never used in training, never stale.
#include "prn/conv_bn_fold.h"
#include "prn/model.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"
#include "test_util.h"

#include <ATen/record_function.h>

#include <functional>

using prn::ConvBnFold;
using prn::ModelConfig;
using prn::PrnModel;
using prn::PrnModelImpl;

namespace {

namespace nn = torch::nn;

constexpr double kTolerance = 1e-4;

PrnModel fitted_light(uint64_t seed) { return prn::test::fitted_light_model(seed, 3, 6); }

// Moves every BatchNorm outside the encoder off its initial 0 / 1 statistics
// and unit affine map, so a fold that ignored any of them would show.
void perturb_batchnorm(PrnModelImpl &model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto &item : model.named_buffers()) {
    const auto &name = item.key();
    if (name.rfind("encoder.", 0) == 0)
      continue;
    if (name.find("running_mean") != std::string::npos)
      item.value().copy_(0.1 * at::normal(0.0, 1.0, item.value().sizes(), gen, torch::kFloat32));
    else if (name.find("running_var") != std::string::npos)
      item.value().copy_(0.5 + at::rand(item.value().sizes(), gen, torch::kFloat32));
  }
  for (auto &item : model.named_parameters()) {
    const auto &name = item.key();
    if (name.rfind("encoder.", 0) == 0 || item.value().dim() != 1 || name.find("bias") != std::string::npos)
      continue;
    item.value().copy_(0.8 + 0.4 * at::rand(item.value().sizes(), gen, torch::kFloat32));
  }
}

// The plain eval forward (autograd on: no fast path) and the fast one.
std::pair<torch::Tensor, torch::Tensor> plain_and_fast(PrnModelImpl &model, const torch::Tensor &x) {
  model.eval();
  auto plain = torch::sigmoid(model.forward(x)).detach();
  torch::Tensor fast;
  {
    torch::InferenceMode guard;
    fast = torch::sigmoid(model.forward(x)).clone();
  }
  return {plain, fast};
}

double max_abs_diff(const torch::Tensor &a, const torch::Tensor &b) { return (a - b).abs().max().item<double>(); }

// How many aten::batch_norm calls fn makes on this thread (a BatchNorm that
// was folded into its conv makes none).
thread_local int64_t batch_norm_calls = 0;
int64_t count_batch_norms(const std::function<void()> &fn) {
  batch_norm_calls = 0;
  auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback([](const at::RecordFunction &rf) -> std::unique_ptr<at::ObserverContext> {
        if (std::string(rf.name()) == "aten::batch_norm")
          ++batch_norm_calls;
        return nullptr;
      }).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  return batch_norm_calls;
}

} // namespace

TEST(InferenceFastPath, MatchesPlainEvalForwardOnLight) {
  auto model = fitted_light(1);
  perturb_batchnorm(*model, 11);
  prn::SyntheticTextures gen(128, 5);
  auto x = gen.normal_images(3);
  auto [plain, fast] = plain_and_fast(*model, x);
  EXPECT_LE(max_abs_diff(plain, fast), kTolerance);
  // every BatchNorm (encoder, attention, decoder) is folded on the fast path
  EXPECT_EQ(count_batch_norms([&] {
              torch::InferenceMode guard;
              model->forward(x);
            }),
            0);
  EXPECT_GT(count_batch_norms([&] { model->forward(x); }), 20) << "the plain eval forward runs every BatchNorm";
  // under NoGradGuard too (anomaly_map), and repeated calls reuse the cache
  auto map = model->anomaly_map(x);
  EXPECT_LE(max_abs_diff(plain, map), kTolerance);
  EXPECT_TRUE(torch::equal(map, model->anomaly_map(x)));
}

namespace {

// The fast forward of n images against the plain one, and the listed images'
// maps against each image's forward alone: a batch that runs in groups must
// give every image its own map, in order.
void expect_batch_equals_images_alone(uint64_t seed, int64_t n, const std::vector<int64_t> &images) {
  auto model = fitted_light(seed);
  perturb_batchnorm(*model, seed + 10);
  prn::SyntheticTextures gen(128, seed + 3);
  auto x = gen.normal_images(n);
  auto [plain, fast] = plain_and_fast(*model, x);
  ASSERT_EQ(fast.sizes(), (std::vector<int64_t>{n, 1, 128, 128}));
  EXPECT_LE(max_abs_diff(plain, fast), kTolerance);
  torch::InferenceMode guard;
  for (int64_t i : images) {
    auto alone = torch::sigmoid(model->forward(x.narrow(0, i, 1)));
    EXPECT_LE(max_abs_diff(alone, fast.narrow(0, i, 1)), 1e-5) << "image " << i;
  }
}

} // namespace

TEST(InferenceFastPath, FullResolutionTailInGroupsMatchesOneImageAtATime) {
  // light's tail runs 4 images at a time: 9 images make groups of 4, 4 and 1.
  expect_batch_equals_images_alone(3, 9, {0, 1, 2, 3, 4, 5, 6, 7, 8});
}

TEST(InferenceFastPath, LargeCpuBatchesRunInGroupsOfEight) {
  // 19 images: groups of 8, 8 and 3 (each with its tail in groups of 4).
  expect_batch_equals_images_alone(4, 19, {0, 7, 8, 15, 16, 18});
}

TEST(InferenceFastPath, FollowsChangedStatisticsAndWeights) {
  auto model = fitted_light(2);
  prn::SyntheticTextures gen(128, 6);
  auto x = gen.normal_images(2);
  plain_and_fast(*model, x); // builds the folded weights
  perturb_batchnorm(*model, 12); // in-place changes after folding
  auto [plain, fast] = plain_and_fast(*model, x);
  EXPECT_LE(max_abs_diff(plain, fast), kTolerance);

  // a model loaded over this one (copy_ into every tensor, as load_model does)
  auto other = fitted_light(3);
  perturb_batchnorm(*other, 13);
  {
    torch::NoGradGuard no_grad;
    auto src = other->named_parameters();
    for (auto &item : model->named_parameters())
      item.value().copy_(src[item.key()]);
    auto bsrc = other->named_buffers();
    for (auto &item : model->named_buffers())
      item.value().copy_(bsrc[item.key()]);
  }
  auto [plain_other, fast_other] = plain_and_fast(*other, x);
  auto [plain_loaded, fast_loaded] = plain_and_fast(*model, x);
  EXPECT_TRUE(torch::equal(plain_other, plain_loaded));
  EXPECT_LE(max_abs_diff(plain_other, fast_loaded), kTolerance);
}

TEST(InferenceFastPath, TrainingIsUnaffectedAndServesTrainedWeights) {
  // Two identical models; one has run the fast path. Their training steps and
  // training-mode outputs must agree bit for bit.
  auto a = fitted_light(4), b = fitted_light(4);
  prn::SyntheticTextures gen(128, 7);
  auto x = gen.normal_images(2);
  auto masks = torch::zeros({2, 1, 128, 128});
  masks.narrow(2, 40, 20).narrow(3, 40, 20).fill_(1.0);
  plain_and_fast(*a, x);
  auto opt_a = prn::make_optimizer(*a, 1e-3), opt_b = prn::make_optimizer(*b, 1e-3);
  for (int step = 0; step < 2; ++step) {
    auto la = prn::train_step(*a, *opt_a, x, masks);
    auto lb = prn::train_step(*b, *opt_b, x, masks);
    EXPECT_EQ(la.total, lb.total) << "step " << step;
  }
  a->train();
  b->train();
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  // after training, the fast path serves the new weights and statistics
  auto [plain, fast] = plain_and_fast(*a, x);
  EXPECT_LE(max_abs_diff(plain, fast), kTolerance);
  EXPECT_TRUE(torch::equal(plain, plain_and_fast(*b, x).first));
  // in training mode nothing is folded, with or without autograd (batch statistics)
  a->train();
  EXPECT_GT(count_batch_norms([&] {
              torch::NoGradGuard no_grad;
              a->forward(x);
            }),
            20);
}

TEST(InferenceFastPath, EncoderFoldedEqualsPlain) {
  prn::Encoder encoder;
  encoder->reset_parameters(3);
  prn::SyntheticTextures gen(128, 8);
  auto x = gen.normal_images(2).contiguous(torch::MemoryFormat::ChannelsLast);
  encoder->fit_batchnorm(x); // non-trivial statistics
  auto plain = encoder->forward(x);
  auto folded = encoder->forward(x, /*fold_batchnorm=*/true);
  auto again = encoder->forward(x);
  for (int s = 0; s < 3; ++s) {
    SCOPED_TRACE("scale " + std::to_string(s));
    EXPECT_TRUE(torch::equal(plain[s], again[s])); // the default forward is the plain one
    EXPECT_TRUE(torch::allclose(plain[s], folded[s], kTolerance, kTolerance))
        << "max abs diff " << max_abs_diff(plain[s], folded[s]);
  }
}

TEST(ConvBnFold, FoldsOnlyEvalInferenceAndRebuildsOnChange) {
  nn::Conv2d conv(nn::Conv2dOptions(4, 6, 3).padding(1).bias(false));
  nn::BatchNorm2d bn(6);
  {
    torch::NoGradGuard no_grad;
    bn->running_mean.copy_(torch::randn({6}));
    bn->running_var.copy_(torch::rand({6}) + 0.5);
    bn->weight.copy_(torch::rand({6}) + 0.5);
    bn->bias.copy_(torch::randn({6}));
  }
  auto x = torch::randn({2, 4, 8, 8});
  ConvBnFold fold;
  bn->eval();
  EXPECT_FALSE(fold.apply(*conv, *bn, x).has_value()) << "autograd is on: no fold";
  torch::NoGradGuard no_grad;
  auto y = fold.apply(*conv, *bn, x);
  ASSERT_TRUE(y.has_value());
  EXPECT_TRUE(torch::allclose(*y, bn(conv(x)), 1e-5, 1e-5));
  fold.apply(*conv, *bn, x);
  EXPECT_EQ(fold.builds(), 1);

  bn->running_var.mul_(2.0); // in place
  EXPECT_TRUE(torch::allclose(*fold.apply(*conv, *bn, x), bn(conv(x)), 1e-5, 1e-5));
  EXPECT_EQ(fold.builds(), 2);
  conv->weight.set_data(torch::randn_like(conv->weight)); // replaced, as Module::to does
  EXPECT_TRUE(torch::allclose(*fold.apply(*conv, *bn, x), bn(conv(x)), 1e-5, 1e-5));
  EXPECT_EQ(fold.builds(), 3);

  bn->train();
  EXPECT_FALSE(fold.apply(*conv, *bn, x).has_value()) << "training mode: no fold";
  fold.clear();
  EXPECT_FALSE(fold.cached());
}
