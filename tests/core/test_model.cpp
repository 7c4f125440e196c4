// Shapes and dtypes of every stage; gradients; the frozen encoder.
#include "prn/encoder.h"
#include "prn/model.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"
#include "test_util.h"

using prn::ModelConfig;
using prn::PrnModel;

namespace {

PrnModel fitted_model(const ModelConfig &config, int64_t normals = 6, uint64_t seed = 1) {
  auto c = config;
  c.num_prototypes = 3;
  PrnModel model(c, seed);
  prn::SyntheticTextures gen(c.input_size, seed);
  model->fit_prototypes(gen.normal_images(normals), seed);
  return model;
}

void expect_stage_shapes(const ModelConfig &c, int64_t B) {
  auto model = fitted_model(c);
  prn::SyntheticTextures gen(c.input_size, 7);
  auto t = model->trace(gen.normal_images(B));
  for (int s = 0; s < 3; ++s) {
    const int64_t side = c.feature_size(s);
    const int64_t enc = prn::kEncoderChannels[s];
    SCOPED_TRACE("scale " + std::to_string(s));
    EXPECT_EQ(t.features[s].sizes(), (std::vector<int64_t>{B, enc, side, side}));
    EXPECT_EQ(t.residuals[s].sizes(), (std::vector<int64_t>{B, enc, side, side}));
    EXPECT_EQ(t.nearest[s].sizes(), (std::vector<int64_t>{B}));
    EXPECT_EQ(t.nearest[s].scalar_type(), torch::kLong);
    EXPECT_EQ(t.fused[s].sizes(), (std::vector<int64_t>{B, c.channels[s], side, side}));
    EXPECT_EQ(t.attended[s].sizes(), (std::vector<int64_t>{B, c.channels[s], side, side}));
    EXPECT_EQ(t.refused[s].sizes(), (std::vector<int64_t>{B, c.channels[s], side, side}));
    for (const auto *x : {&t.features[s], &t.residuals[s], &t.fused[s], &t.attended[s], &t.refused[s]}) {
      EXPECT_EQ(x->scalar_type(), torch::kFloat32);
      EXPECT_TRUE(torch::isfinite(*x).all().item<bool>());
    }
    EXPECT_GE(t.residuals[s].min().item<float>(), 0.f);
  }
  EXPECT_EQ(t.logits.sizes(), (std::vector<int64_t>{B, 1, c.input_size, c.input_size}));
  auto map = model->anomaly_map(gen.normal_images(B));
  EXPECT_GE(map.min().item<float>(), 0.f);
  EXPECT_LE(map.max().item<float>(), 1.f);
}

} // namespace

TEST(Model, LightStageShapes) { expect_stage_shapes(ModelConfig::light(), 2); }

TEST(Model, PaperStageShapes) {
  // 64x64x64, 128x32x32, 256x16x16 encoder maps for a 256x256 input
  expect_stage_shapes(ModelConfig::paper(), 1);
}

TEST(Model, GradientsReachEveryTrainableParameterAndNeverTheEncoder) {
  auto model = fitted_model(ModelConfig::light());
  prn::SyntheticTextures gen(128, 3);
  auto batch = gen.defective_images(2, prn::DefectKind::Spot);
  model->train(true);
  auto logits = model->forward(batch.images);
  auto loss = torch::binary_cross_entropy_with_logits(logits, batch.masks);
  loss.backward();
  int64_t checked = 0;
  for (auto &item : model->named_parameters()) {
    const auto &name = item.key();
    const auto &p = item.value();
    if (name.rfind("encoder.", 0) == 0) {
      EXPECT_FALSE(p.requires_grad()) << name;
      EXPECT_FALSE(p.grad().defined()) << name;
    } else {
      ++checked;
      ASSERT_TRUE(p.grad().defined()) << name << " got no gradient";
      EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << name << " got a zero gradient";
    }
  }
  EXPECT_EQ(checked, static_cast<int64_t>(model->trainable_parameters().size()));
  EXPECT_GT(checked, 50);
}

TEST(Model, EncoderStaysInEvalModeAndItsStatisticsNeverMove) {
  auto model = fitted_model(ModelConfig::light());
  std::map<std::string, torch::Tensor> before;
  for (auto &item : model->encoder()->named_buffers())
    before[item.key()] = item.value().clone();
  for (auto &item : model->encoder()->named_parameters())
    before[item.key()] = item.value().clone();
  model->train(true);
  EXPECT_TRUE(model->is_training());
  EXPECT_FALSE(model->encoder()->is_training());
  for (auto &child : model->encoder()->modules())
    EXPECT_FALSE(child->is_training());

  auto opt = prn::make_optimizer(*model, 1e-3);
  prn::SyntheticTextures gen(128, 5);
  for (int step = 0; step < 3; ++step) {
    auto batch = gen.defective_images(2, prn::DefectKind::Scratch);
    prn::train_step(*model, *opt, batch.images, batch.masks);
  }
  EXPECT_FALSE(model->encoder()->is_training());
  for (auto &item : model->encoder()->named_buffers())
    EXPECT_TRUE(torch::equal(item.value(), before.at(item.key()))) << item.key() << " moved";
  for (auto &item : model->encoder()->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), before.at(item.key()))) << item.key() << " moved";
}

// The random encoder's fallback: BatchNorm statistics fitted on the images. The
// stem's BatchNorm sees conv1 of the normalised images, so its running mean must
// be their per-channel mean (one batch: exact up to float rounding); afterwards
// the encoder is frozen and in eval mode again, and a bad input is refused.
TEST(Model, EncoderFitBatchNormStandardisesItsChannels) {
  prn::Encoder enc;
  prn::SyntheticTextures gen(64, 3);
  auto images = gen.normal_images(4);
  torch::Tensor conv1_out;
  {
    torch::NoGradGuard no_grad;
    auto buffers = enc->named_buffers();
    auto x = (images - buffers["input_mean"]) / buffers["input_std"];
    conv1_out = torch::conv2d(x, enc->named_parameters()["conv1.weight"], {}, 2, 3);
  }
  enc->fit_batchnorm(images, /*batch=*/4);
  auto buffers = enc->named_buffers();
  EXPECT_TRUE(torch::allclose(buffers["bn1.running_mean"], conv1_out.mean({0, 2, 3}), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(buffers["bn1.running_var"], conv1_out.var({0, 2, 3}, /*unbiased=*/true), 1e-3, 1e-5));
  // Deeper layers were fitted too: no BatchNorm keeps the initial 0 / 1.
  for (auto &item : buffers) {
    if (item.key().find("running_var") != std::string::npos) {
      EXPECT_FALSE(torch::allclose(item.value(), torch::ones_like(item.value()))) << item.key();
    }
  }
  for (auto &child : enc->modules())
    EXPECT_FALSE(child->is_training());
  for (auto &p : enc->parameters())
    EXPECT_FALSE(p.requires_grad());
  // Layer-3 maps of the fitted encoder are standardised: about unit scale after BN + residual sums.
  auto l3 = enc->forward(images)[2];
  EXPECT_GT(l3.std().item<double>(), 0.2);
  EXPECT_LT(l3.std().item<double>(), 5.0);
  EXPECT_PRN_ERROR(enc->fit_batchnorm(torch::rand({2, 1, 64, 64})), "(N, 3, H, W)", "[2, 1, 64, 64]");
  EXPECT_PRN_ERROR(enc->fit_batchnorm(images, 0), "batch >= 1", "got 0");
}

TEST(Model, PrototypesAreFixedDuringTraining) {
  auto model = fitted_model(ModelConfig::light());
  auto before = model->prototypes()[0].clone();
  auto opt = prn::make_optimizer(*model, 1e-3);
  prn::SyntheticTextures gen(128, 5);
  auto batch = gen.defective_images(2, prn::DefectKind::Hole);
  prn::train_step(*model, *opt, batch.images, batch.masks);
  EXPECT_TRUE(torch::equal(model->prototypes()[0], before));
  EXPECT_FALSE(model->prototypes()[0].requires_grad());
}

TEST(Model, TrainStepLowersTheLossOnARepeatedBatch) {
  auto model = fitted_model(ModelConfig::light());
  auto opt = prn::make_optimizer(*model, 1e-3);
  prn::SyntheticTextures gen(128, 11);
  auto batch = gen.defective_images(4, prn::DefectKind::Spot);
  auto first = prn::train_step(*model, *opt, batch.images, batch.masks);
  prn::StepLosses last;
  for (int i = 0; i < 8; ++i)
    last = prn::train_step(*model, *opt, batch.images, batch.masks);
  EXPECT_LT(last.total, first.total);
  EXPECT_NEAR(first.total, first.smooth_l1 + 5.0 * first.focal, 1e-5);
}

TEST(Model, PreciseBatchNormMakesEvalModeMatchTrainingModeStatistics) {
  auto model = fitted_model(ModelConfig::light());
  auto opt = prn::make_optimizer(*model, 1e-3);
  prn::SyntheticTextures gen(128, 13);
  for (int i = 0; i < 3; ++i) {
    auto b = gen.defective_images(4, prn::DefectKind::Spot);
    prn::train_step(*model, *opt, b.images, b.masks);
  }
  auto fixed = gen.defective_images(4, prn::DefectKind::Spot).images;
  torch::Tensor train_mode;
  {
    torch::NoGradGuard no_grad;
    model->train(true);
    train_mode = torch::sigmoid(model->forward(fixed));
  }
  std::map<std::string, torch::Tensor> encoder_before;
  for (auto &item : model->encoder()->named_buffers())
    encoder_before[item.key()] = item.value().clone();
  // The same batch three times: the cumulative statistics are that batch's.
  prn::recalibrate_batchnorm(*model, [&] { return fixed; }, 3);
  EXPECT_FALSE(model->is_training());
  auto eval_mode = model->anomaly_map(fixed);
  EXPECT_LT((eval_mode - train_mode).abs().max().item<double>(), 2e-3);
  // ... and the encoder's statistics were not touched.
  for (auto &item : model->encoder()->named_buffers())
    EXPECT_TRUE(torch::equal(item.value(), encoder_before.at(item.key()))) << item.key();
}
