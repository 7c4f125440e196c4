// The no-ImageNet fallback's encoder adaptation (prn::adapt_encoder): it trains
// the random encoder, leaves it frozen, and its features localise the trained
// defect kind better than the random ones did.
#include "prn/encoder_adaptation.h"
#include "prn/metrics.h"
#include "prn/synthetic.h"
#include "test_util.h"

namespace {

constexpr int64_t kSize = 64;

// Batches of 4 normal + 4 spotted textures from `gen`.
std::pair<torch::Tensor, torch::Tensor> spot_batch(prn::SyntheticTextures &gen) {
  auto bad = gen.defective_images(4, prn::DefectKind::Spot);
  return {torch::cat({gen.normal_images(4), bad.images}),
          torch::cat({torch::zeros({4, 1, kSize, kSize}), bad.masks})};
}

// Pixel AUROC of a training-free score: the layer-2 feature's squared distance
// to the mean normal feature at that position, upsampled to the image.
double feature_distance_auroc(prn::EncoderImpl &encoder, const torch::Tensor &normals, const torch::Tensor &images,
                              const torch::Tensor &masks) {
  auto mean = encoder.forward(normals)[1].mean(0, true);
  auto d = (encoder.forward(images)[1] - mean).pow(2).sum(1, true);
  auto up = torch::nn::functional::interpolate(
      d, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{kSize, kSize}).mode(torch::kBilinear).align_corners(false));
  return prn::auroc(up.flatten(), masks.flatten() > 0.5);
}

std::vector<torch::Tensor> snapshot(prn::EncoderImpl &encoder) {
  std::vector<torch::Tensor> out;
  for (auto &p : encoder.parameters())
    out.push_back(p.detach().clone());
  return out;
}

} // namespace

TEST(EncoderAdaptation, TrainsTheEncoderAndFreezesItAgain) {
  torch::set_num_threads(2);
  prn::Encoder encoder;
  encoder->reset_parameters(7);
  prn::SyntheticTextures gen(kSize, 7);
  encoder->fit_batchnorm(gen.normal_images(16));
  const auto before = snapshot(*encoder);

  prn::AdaptationOptions o;
  o.steps = 5;
  std::vector<double> losses;
  prn::adapt_encoder(*encoder, [&] { return spot_batch(gen); }, o, nullptr, [&](int64_t step, const prn::StepLosses &l) {
    EXPECT_EQ(step, static_cast<int64_t>(losses.size()) + 1);
    EXPECT_TRUE(encoder->trainable()); // trainable while it adapts
    losses.push_back(l.total);
    return true;
  });
  EXPECT_EQ(losses.size(), 5u);

  // Frozen again: eval mode, no grad, train() cannot switch it back on.
  EXPECT_FALSE(encoder->trainable());
  EXPECT_FALSE(encoder->is_training());
  encoder->train(true);
  EXPECT_FALSE(encoder->is_training());
  for (auto &p : encoder->parameters())
    EXPECT_FALSE(p.requires_grad());
  auto f = encoder->forward(gen.normal_images(2));
  EXPECT_FALSE(f[2].requires_grad());

  // Every conv moved.
  const auto after = encoder->parameters();
  int64_t moved_convs = 0, convs = 0;
  for (size_t i = 0; i < after.size(); ++i)
    if (after[i].dim() == 4) {
      ++convs;
      moved_convs += !torch::equal(after[i], before[i]);
    }
  EXPECT_EQ(moved_convs, convs);
}

TEST(EncoderAdaptation, AdaptedFeaturesLocaliseTheTrainedKindBetterThanRandomOnes) {
  torch::set_num_threads(2);
  prn::Encoder encoder;
  encoder->reset_parameters(11);
  prn::SyntheticTextures gen(kSize, 11), held_out(kSize, 1011);
  const auto normals = gen.normal_images(24);
  encoder->fit_batchnorm(normals);
  auto test = held_out.defective_images(12, prn::DefectKind::Spot);
  const double random_auroc = feature_distance_auroc(*encoder, normals, test.images, test.masks);

  prn::AdaptationOptions o;
  o.steps = 60;
  prn::adapt_encoder(*encoder, [&] { return spot_batch(gen); }, o);
  encoder->fit_batchnorm(normals);
  const double adapted_auroc = feature_distance_auroc(*encoder, normals, test.images, test.masks);
  std::printf("feature-distance pixel AUROC on held-out spots: random encoder %.4f, adapted %.4f\n", random_auroc,
              adapted_auroc);
  EXPECT_GT(adapted_auroc, random_auroc + 0.02);
}

TEST(EncoderAdaptation, StopsWhenAskedAndStaysFrozenAfterAnError) {
  prn::Encoder encoder;
  prn::SyntheticTextures gen(kSize, 3);
  prn::AdaptationOptions o;
  o.steps = 10;
  int64_t calls = 0;
  prn::adapt_encoder(*encoder, [&] { return spot_batch(gen); }, o, nullptr,
                     [&](int64_t, const prn::StepLosses &) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(encoder->trainable());

  EXPECT_PRN_ERROR(prn::adapt_encoder(*encoder, [&] { return std::make_pair(gen.normal_images(2), torch::zeros({2, 1, 32, 32})); }, o),
                   "adapt_encoder: expected masks (2, 1, 64, 64)", "[2, 1, 32, 32]");
  EXPECT_FALSE(encoder->trainable());
  for (auto &p : encoder->parameters())
    EXPECT_FALSE(p.requires_grad());
  o.steps = 0;
  EXPECT_PRN_ERROR(prn::adapt_encoder(*encoder, [&] { return spot_batch(gen); }, o), "expected steps >= 1, got 0");
  o.steps = 1;
  o.lr = -1;
  EXPECT_PRN_ERROR(prn::adapt_encoder(*encoder, [&] { return spot_batch(gen); }, o), "expected lr > 0, got -1");
}
