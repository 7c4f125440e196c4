// prn::stream::ModelRunner on the CPU: the model's maps, bit for bit; the
// precision's autocast; CUDA-only options ignored; the checks of the input
// (InputCheck::Shape skips only the values). The CUDA side is in test_cuda.cpp.
#include "prn/stream/model_runner.h"
#include "test_util.h"

#include <limits>

using prn::stream::ModelRunner;
using prn::stream::RunnerOptions;

TEST(ModelRunner, OnTheCpuGivesTheModelsMaps) {
  auto model = prn::test::fitted_light_model(11);
  model->eval();
  const auto x = prn::SyntheticTextures(model->config().input_size, 12).normal_images(3);
  const torch::Tensor want = model->anomaly_map(x);
  RunnerOptions o;
  o.cuda_graphs = true; // CUDA only: ignored here
  ModelRunner runner(model, torch::kCPU, o);
  const torch::Tensor got = runner.run(x);
  EXPECT_EQ(got.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(got.is_cpu());
  EXPECT_TRUE(torch::equal(got, want));
  EXPECT_FALSE(runner.stream().has_value()) << "no CUDA stream on the CPU";
  EXPECT_EQ(runner.graphs(), 0);
  EXPECT_FALSE(runner.captures_graphs());
  runner.prepare(2);
  EXPECT_EQ(runner.graphs(), 0);
  { ModelRunner::StreamScope scope(runner); } // nothing to do on the CPU, nothing thrown
}

TEST(ModelRunner, Bf16RunsUnderAutocastAndGivesFloat32Maps) {
  auto model = prn::test::fitted_light_model(13);
  model->eval();
  const auto x = prn::SyntheticTextures(model->config().input_size, 14).normal_images(2);
  RunnerOptions o;
  o.precision = prn::Precision::BFloat16;
  const torch::Tensor fp32 = ModelRunner(model, torch::kCPU).run(x);
  const torch::Tensor bf16 = ModelRunner(model, torch::kCPU, o).run(x);
  EXPECT_EQ(bf16.scalar_type(), torch::kFloat32);
  const double diff = (bf16 - fp32).abs().max().item<double>();
  EXPECT_GT(diff, 0.0) << "bf16 gave fp32's bits: autocast did not run";
  EXPECT_LT(diff, 0.1);
}

TEST(ModelRunner, RejectsBadTilesNamingWhatIsWrong) {
  auto model = prn::test::fitted_light_model(15);
  model->eval();
  const int64_t S = model->config().input_size;
  ModelRunner runner(model, torch::kCPU);
  EXPECT_PRN_ERROR(runner.run(torch::zeros({2, 3, S + 1, S})), "expected shape (B, 3, ");
  torch::Tensor nan = torch::zeros({1, 3, S, S});
  nan[0][1][5][5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_PRN_ERROR(runner.run(nan), "expected finite values");
  EXPECT_PRN_ERROR(runner.prepare(0), "expected at least one tile", "got 0");
  EXPECT_PRN_ERROR(ModelRunner(prn::PrnModel(nullptr), torch::kCPU), "expected a model");
}

TEST(ModelRunner, ShapeOnlyCheckSkipsTheValuesAlone) {
  auto model = prn::test::fitted_light_model(16);
  model->eval();
  const int64_t S = model->config().input_size;
  torch::Tensor nan = torch::zeros({1, 3, S, S});
  nan[0][0][0][0] = std::numeric_limits<float>::infinity();
  EXPECT_PRN_ERROR(model->anomaly_map(nan), "expected finite values");
  EXPECT_NO_THROW(model->anomaly_map(nan, prn::InputCheck::Shape)); // what a CUDA graph capture needs
  EXPECT_PRN_ERROR(model->anomaly_map(torch::zeros({1, 3, S, S + 2}), prn::InputCheck::Shape), "expected shape");
  EXPECT_PRN_ERROR(model->anomaly_map(torch::zeros({1, 3, S, S}, torch::kFloat64), prn::InputCheck::Shape),
                   "expected float32");
}
