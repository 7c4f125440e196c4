// CUDA: the op's CUDA kernel and the whole model on a GPU against the CPU.
// Skipped where LibTorch sees no CUDA device (CI has none; scripts/device-check.sh
// runs them on a lent GPU).
#include "prn/model.h"
#include "prn/ops/depthwise_conv.h"
#include "prn/ops/nearest_residual.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"
#include "test_util.h"

namespace {
bool have_cuda() { return torch::cuda::is_available(); }
} // namespace

TEST(Cuda, NearestResidualKernelMatchesCpu) {
  if (!have_cuda())
    GTEST_SKIP() << "no CUDA device";
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto feats = at::randn({6, 64, 32, 32}, gen);
  auto protos = at::randn({9, 64, 32, 32}, gen);
  auto [r_cpu, i_cpu] = prn::ops::nearest_prototype_residual(feats, protos);
  auto [r_gpu, i_gpu] = prn::ops::nearest_prototype_residual(feats.cuda(), protos.cuda());
  EXPECT_TRUE(r_gpu.is_cuda());
  EXPECT_TRUE(torch::equal(i_gpu.cpu(), i_cpu));
  EXPECT_TRUE(torch::allclose(r_gpu.cpu(), r_cpu, 1e-5, 1e-5));
}

TEST(Cuda, DepthwiseConvMatchesCpu) {
  if (!have_cuda())
    GTEST_SKIP() << "no CUDA device";
  c10::InferenceMode guard;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  auto x = at::randn({4, 64, 32, 32}, gen), w = at::randn({256, 1, 5, 5}, gen), b = at::randn({256}, gen);
  auto r = at::randn({4, 256, 8, 8}, gen);
  auto cpu = prn::ops::depthwise_conv2d(x, w, b, 4, 2, r);
  auto gpu = prn::ops::depthwise_conv2d(x.cuda(), w.cuda(), b.cuda(), 4, 2, r.cuda());
  EXPECT_TRUE(gpu.is_cuda());
  EXPECT_LT((gpu.cpu() - cpu).abs().max().item<float>(), 1e-4);
}

TEST(Cuda, ModelForwardMatchesCpu) {
  if (!have_cuda())
    GTEST_SKIP() << "no CUDA device";
  auto model = prn::test::fitted_light_model(3);
  model->eval();
  auto x = prn::SyntheticTextures(model->config().input_size, 5).normal_images(2);
  auto cpu = model->anomaly_map(x);
  model->to(torch::kCUDA);
  auto gpu = model->anomaly_map(x.cuda());
  EXPECT_LT((gpu.cpu() - cpu).abs().max().item<double>(), 1e-3);
  // Input on the wrong device: a clear error.
  EXPECT_PRN_ERROR(model->forward(x), "expected a tensor on cuda", "got one on cpu");
}

TEST(Cuda, MixedPrecisionTrainsOnTheGpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  const torch::Device gpu(torch::kCUDA, 0);
  prn::PrnModel model(prn::ModelConfig::light(), 5);
  const int64_t S = model->config().input_size;
  model->fit_prototypes(torch::rand({4, 3, S, S}), 5);
  model->to(gpu);
  const torch::Tensor x = torch::rand({4, 3, S, S}).to(gpu);
  torch::Tensor m = torch::zeros({4, 1, S, S});
  m.narrow(2, 30, 30).narrow(3, 30, 30).fill_(1);
  m = m.to(gpu);
  for (prn::Precision p : {prn::Precision::BFloat16, prn::Precision::Float16}) {
    auto opt = prn::make_optimizer(*model, 1e-3);
    prn::LossScaler scaler;
    const torch::Tensor before = model->trainable_parameters()[0].detach().clone();
    for (int i = 0; i < 4; ++i)
      EXPECT_TRUE(std::isfinite(prn::train_step(*model, *opt, x, m, p, &scaler).total)) << prn::precision_name(p);
    EXPECT_FALSE(torch::equal(before, model->trainable_parameters()[0].detach())) << prn::precision_name(p);
  }
}
