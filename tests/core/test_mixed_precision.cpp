// Mixed precision: bf16 autocast trains on the CPU with float32 residuals and
// loss; fp16 is refused without CUDA; the loss scaler unscales exactly and skips
// steps with Inf/NaN gradients.
#include "prn/mixed_precision.h"
#include "prn/model.h"
#include "prn/train_step.h"
#include "test_util.h"

#include <ATen/autocast_mode.h>

#include <cmath>

TEST(MixedPrecision, NamesAndDevices) {
  EXPECT_EQ(prn::precision_from_name("bf16"), prn::Precision::BFloat16);
  EXPECT_STREQ(prn::precision_name(prn::Precision::Float16), "fp16");
  EXPECT_PRN_ERROR(prn::precision_from_name("fp8"), "fp8", "fp32, bf16 or fp16");
  EXPECT_PRN_ERROR(prn::check_precision(prn::Precision::Float16, torch::kCPU), "fp16 needs a CUDA device");
  prn::check_precision(prn::Precision::BFloat16, torch::kCPU);
}

TEST(MixedPrecision, AutoTakesBf16WhereAConvolutionRunsFasterInIt) {
  using prn::Precision;
  EXPECT_EQ(prn::auto_precision_for(0.0), Precision::Float32); // no bfloat16 instructions
  EXPECT_EQ(prn::auto_precision_for(0.7), Precision::Float32); // measured: AVX-512 BF16 without AMX
  EXPECT_EQ(prn::auto_precision_for(1.19), Precision::Float32);
  EXPECT_EQ(prn::auto_precision_for(1.2), Precision::BFloat16);
  EXPECT_EQ(prn::auto_precision_for(6.0), Precision::BFloat16); // measured: AMX
  EXPECT_EQ(prn::auto_precision_reason(Precision::BFloat16, 2.1),
            "bf16 (a 3x3 convolution ran 2.10x as fast in bf16 as in fp32 here; bf16 from 1.2x)");
  EXPECT_EQ(prn::auto_precision_reason(Precision::Float32, 0.0), "fp32 (this CPU has no bfloat16 instructions)");

  // The measurement on this machine: timed only where the instructions exist,
  // and without drawing from the global generator (a seeded run stays as it was).
  torch::manual_seed(3);
  const auto before = torch::rand({4});
  torch::manual_seed(3);
  const prn::AutoPrecision a = prn::auto_cpu_precision();
  EXPECT_TRUE(torch::equal(torch::rand({4}), before));
  if (prn::cpu_has_native_bf16()) {
    EXPECT_GT(a.speedup, 0.0);
    EXPECT_TRUE(std::isfinite(a.speedup));
  } else {
    EXPECT_EQ(a.speedup, 0.0);
  }
  EXPECT_EQ(a.precision, prn::auto_precision_for(a.speedup));
}

TEST(MixedPrecision, AutocastGuardRestoresTheState) {
  ASSERT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  {
    prn::AutocastGuard g(torch::kCPU, prn::Precision::BFloat16);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(at::kCPU));
    const torch::Tensor y = torch::mm(torch::rand({4, 4}), torch::rand({4, 4}));
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
  EXPECT_EQ(torch::mm(torch::rand({4, 4}), torch::rand({4, 4})).scalar_type(), torch::kFloat32);
}

TEST(MixedPrecision, Bf16TrainsTheLightModelOnTheCpu) {
  torch::manual_seed(3);
  prn::PrnModel model(prn::ModelConfig::light(), 3);
  const int64_t S = model->config().input_size;
  model->fit_prototypes(torch::rand({4, 3, S, S}), 3);
  const torch::Tensor x = torch::rand({2, 3, S, S});
  torch::Tensor m = torch::zeros({2, 1, S, S});
  m.narrow(2, 40, 20).narrow(3, 40, 20).fill_(1);
  auto opt = prn::make_optimizer(*model, 1e-3);
  const torch::Tensor before = model->trainable_parameters()[0].detach().clone();
  model->eval();
  torch::Tensor fp32_logits, bf16_logits;
  {
    torch::NoGradGuard ng;
    fp32_logits = model->forward(x);
    prn::AutocastGuard g(torch::kCPU, prn::Precision::BFloat16);
    bf16_logits = model->forward(x).to(torch::kFloat32);
  }
  EXPECT_LT((fp32_logits - bf16_logits).abs().mean().item<double>(), 0.1 * fp32_logits.abs().mean().item<double>() + 0.05)
      << "bf16 autocast stays close to float32";
  for (int i = 0; i < 3; ++i) {
    const prn::StepLosses l = prn::train_step(*model, *opt, x, m, prn::Precision::BFloat16);
    EXPECT_TRUE(std::isfinite(l.total));
  }
  EXPECT_FALSE(torch::equal(before, model->trainable_parameters()[0].detach())) << "the weights moved";
  prn::LossScaler scaler;
  EXPECT_PRN_ERROR(prn::train_step(*model, *opt, x, m, prn::Precision::Float16), "LossScaler");
  EXPECT_PRN_ERROR(prn::train_step(*model, *opt, x, m, prn::Precision::Float16, &scaler), "fp16 needs a CUDA device");
}

TEST(MixedPrecision, LossScalerUnscalesAndSkipsNonFiniteSteps) {
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  torch::optim::SGD opt({w}, torch::optim::SGDOptions(0.5));
  prn::LossScaler scaler(1024.0, 2);
  scaler.scale((3 * w).sum()).backward();
  EXPECT_TRUE(scaler.step(opt, {w}));
  EXPECT_TRUE(torch::allclose(w.grad(), torch::full({2}, 3.0))) << "gradients unscaled exactly";
  EXPECT_TRUE(torch::allclose(w.detach(), torch::full({2}, 1.0 - 0.5 * 3.0)));
  opt.zero_grad();
  scaler.scale((3 * w).sum()).backward();
  EXPECT_TRUE(scaler.step(opt, {w}));
  EXPECT_DOUBLE_EQ(scaler.value(), 2048.0) << "doubles after `interval` good steps";
  opt.zero_grad();
  const torch::Tensor kept = w.detach().clone();
  (w * std::numeric_limits<float>::infinity()).sum().backward();
  EXPECT_FALSE(scaler.step(opt, {w}));
  EXPECT_TRUE(torch::equal(kept, w.detach())) << "a step with Inf gradients is skipped";
  EXPECT_DOUBLE_EQ(scaler.value(), 1024.0);
  EXPECT_EQ(scaler.skipped(), 1);
}
