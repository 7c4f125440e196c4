// CUDA: the op's CUDA kernel and the whole model on a GPU against the CPU; the
// model runner's own stream and its CUDA graphs against its eager calls.
// Skipped where LibTorch sees no CUDA device (CI has none; scripts/device-check.sh
// runs them on a lent GPU).
#include "prn/model.h"
#include "prn/ops/depthwise_conv.h"
#include "prn/ops/nearest_residual.h"
#include "prn/stream/model_runner.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"
#include "test_util.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <limits>
#include <vector>

namespace {
bool have_cuda() { return torch::cuda::is_available(); }
// LibTorch's CUDA streams through its device-generic interface (no CUDA headers
// here: the file is built with CPU-only LibTorch builds too).
const c10::impl::DeviceGuardImplInterface &cuda_impl() { return *c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA); }

// A fitted light model in eval mode, `n` images and their maps on the CPU; the
// model is then moved to the GPU.
struct GpuModel {
  prn::PrnModel model;
  torch::Tensor images, cpu_maps;
};
GpuModel gpu_model_with_cpu_maps(int64_t n) {
  GpuModel g{prn::test::fitted_light_model(3), {}, {}};
  g.model->eval();
  g.images = prn::SyntheticTextures(g.model->config().input_size, 5).normal_images(n);
  g.cpu_maps = g.model->anomaly_map(g.images);
  g.model->to(torch::kCUDA);
  return g;
}
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
  auto [model, x, cpu] = gpu_model_with_cpu_maps(2);
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

TEST(Cuda, ModelRunnerWorksOnAStreamOfItsOwn) {
  if (!have_cuda())
    GTEST_SKIP() << "no CUDA device";
  auto [model, x, cpu] = gpu_model_with_cpu_maps(3);
  prn::stream::ModelRunner runner(model, torch::Device(torch::kCUDA)); // no index: the current GPU
  const c10::Device gpu = cuda_impl().getDevice();
  EXPECT_EQ(runner.device(), gpu);
  ASSERT_TRUE(runner.stream().has_value());
  const c10::Stream before = cuda_impl().getStream(gpu);
  EXPECT_NE(*runner.stream(), cuda_impl().getDefaultStream(gpu)) << "the device's default stream";
  for (int i = 0; i < 40; ++i) // more than LibTorch's pool holds: each runner has a stream of its own
    EXPECT_NE(*prn::stream::ModelRunner(model, gpu).stream(), *runner.stream()) << "runner " << i;
  {
    prn::stream::ModelRunner::StreamScope scope(runner);
    EXPECT_EQ(cuda_impl().getStream(gpu), *runner.stream());
  }
  EXPECT_EQ(cuda_impl().getStream(gpu), before) << "the scope restores the stream";
  const torch::Tensor from_cpu = runner.run(x);        // pinned, asynchronous upload
  const torch::Tensor from_gpu = runner.run(x.cuda()); // already there
  EXPECT_TRUE(from_cpu.is_cuda());
  EXPECT_LT((from_cpu.cpu() - cpu).abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(torch::equal(from_cpu, from_gpu));
  EXPECT_EQ(runner.graphs(), 0);
}

TEST(Cuda, ModelRunnerGraphsReplayTheEagerCall) {
  if (!have_cuda())
    GTEST_SKIP() << "no CUDA device";
  auto model = prn::test::fitted_light_model(4);
  model->eval();
  model->to(torch::kCUDA);
  const int64_t S = model->config().input_size;
  for (prn::Precision p : {prn::Precision::Float32, prn::Precision::BFloat16, prn::Precision::Float16}) {
    prn::stream::RunnerOptions eager_o, graph_o;
    eager_o.precision = graph_o.precision = p;
    graph_o.cuda_graphs = true;
    prn::stream::ModelRunner eager(model, torch::kCUDA, eager_o), graphs(model, torch::kCUDA, graph_o);
    EXPECT_TRUE(graphs.captures_graphs());
    EXPECT_FALSE(eager.captures_graphs());
    graphs.prepare(4); // captured before the first real call, as the element's warm-up does
    EXPECT_EQ(graphs.graphs(), 1) << prn::precision_name(p);
    // The same cuDNN algorithms (autotuned once per shape for the process) and the
    // same kernels: a replay gives the eager call's maps, in every precision.
    std::vector<torch::Tensor> kept;
    const std::vector<int64_t> sizes{4, 3, 4}; // a second size, then the first again with new tiles
    for (size_t i = 0; i < sizes.size(); ++i) {
      auto x = prn::SyntheticTextures(S, 20 + static_cast<uint64_t>(i)).normal_images(sizes[i]);
      x.select(0, 0).narrow(1, 10, 20).narrow(2, 10, 20).fill_(1.f); // something to find
      const torch::Tensor want = eager.run(x.cuda()), got = graphs.run(x.cuda());
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_EQ(got.scalar_type(), torch::kFloat32);
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-5) << prn::precision_name(p) << ", call " << i;
      kept.push_back(got);
      kept.push_back(want);
    }
    // Each call's maps are its own: later replays did not overwrite them.
    for (size_t i = 0; i < sizes.size(); ++i)
      EXPECT_LT((kept[2 * i] - kept[2 * i + 1]).abs().max().item<double>(), 1e-5) << "call " << i << " later";
    EXPECT_GT((kept[4] - kept[0]).abs().max().item<double>(), 1e-4) << "new tiles, new maps";
    EXPECT_EQ(graphs.graphs(), 2) << prn::precision_name(p);
    // The values are still checked, outside the graph; the tiles are written on
    // this thread's stream, which the runner's waits for.
    torch::Tensor nan = torch::zeros({4, 3, S, S}, torch::kCUDA);
    nan[1][0][3][3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_PRN_ERROR(graphs.run(nan), "expected finite values");
  }
}
