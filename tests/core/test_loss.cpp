// Loss values, image scores and AUROC against hand-computed numbers.
#include "prn/loss.h"
#include "prn/metrics.h"
#include "prn/postprocess.h"
#include "test_util.h"

#include <cmath>

TEST(Loss, FocalMatchesHandComputedValues) {
  // logits 0 -> p = 0.5. Positive: -0.5 * 0.5^4 * log(0.5) = 0.0216608...
  auto logits = torch::zeros({1, 1, 1, 2});
  auto mask = torch::tensor({1.f, 0.f}).view({1, 1, 1, 2});
  const double one = 0.5 * std::pow(0.5, 4) * std::log(2.0);
  EXPECT_NEAR(prn::focal_loss(logits, mask, 0.5, 4.0).item<double>(), one, 1e-6);
  // logit 2 on a positive: p = sigmoid(2); -alpha (1-p)^g log p
  auto l2 = torch::full({1, 1, 1, 1}, 2.0);
  const double p = 1.0 / (1.0 + std::exp(-2.0));
  EXPECT_NEAR(prn::focal_loss(l2, torch::ones({1, 1, 1, 1}), 0.5, 4.0).item<double>(),
              -0.5 * std::pow(1 - p, 4) * std::log(p), 1e-6);
  // ... and on a negative: -(1-alpha) p^g log(1-p)
  EXPECT_NEAR(prn::focal_loss(l2, torch::zeros({1, 1, 1, 1}), 0.5, 4.0).item<double>(),
              -0.5 * std::pow(p, 4) * std::log(1 - p), 1e-6);
  // alpha weights the classes: alpha 0.25 on a positive
  EXPECT_NEAR(prn::focal_loss(l2, torch::ones({1, 1, 1, 1}), 0.25, 4.0).item<double>(),
              -0.25 * std::pow(1 - p, 4) * std::log(p), 1e-6);
}

TEST(Loss, FocalIsStableForLargeLogits) {
  auto l = torch::tensor({-80.f, 80.f}).view({1, 1, 1, 2});
  auto wrong = torch::tensor({1.f, 0.f}).view({1, 1, 1, 2});
  auto v = prn::focal_loss(l, wrong, 0.5, 4.0).item<double>();
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, 0.5 * 80.0, 1e-3); // -(0.5 * 1 * log sigmoid(-80)) averaged over 2 pixels = 0.5*80
}

TEST(Loss, SmoothL1MatchesHandComputedValues) {
  // p = sigmoid(0) = 0.5 against 1 and 0: 0.5 * 0.25 each -> mean 0.125
  auto logits = torch::zeros({1, 1, 1, 2});
  auto mask = torch::tensor({1.f, 0.f}).view({1, 1, 1, 2});
  EXPECT_NEAR(prn::smooth_l1_loss(logits, mask).item<double>(), 0.125, 1e-6);
  auto parts = prn::prn_loss(logits, mask, 0.5, 4.0, 5.0);
  const double focal = 0.5 * std::pow(0.5, 4) * std::log(2.0);
  EXPECT_NEAR(parts.total.item<double>(), 0.125 + 5.0 * focal, 1e-6);
}

TEST(Loss, ShapeMismatchIsNamed) {
  EXPECT_PRN_ERROR(prn::focal_loss(torch::zeros({1, 1, 4, 4}), torch::zeros({1, 1, 4, 5}), 0.5, 4), "[1, 1, 4, 5]",
                   "[1, 1, 4, 4]");
}

TEST(ImageScore, MeanOfTopK) {
  auto m = torch::arange(16, torch::kFloat32).view({1, 1, 4, 4});
  EXPECT_FLOAT_EQ(prn::image_scores(m, 3).item<float>(), 14.f);
  EXPECT_FLOAT_EQ(prn::image_scores(m, 100).item<float>(), 7.5f); // k clamped to 16 pixels
  auto two = torch::stack({torch::zeros({1, 2, 2}), torch::ones({1, 2, 2})});
  auto s = prn::image_scores(two, 2);
  EXPECT_EQ(s.sizes(), (std::vector<int64_t>{2}));
  EXPECT_FLOAT_EQ(s[1].item<float>(), 1.f);
  EXPECT_PRN_ERROR(prn::image_scores(torch::zeros({2, 3, 4, 4}), 5), "(B, 1, H, W)");
}

TEST(Metrics, AurocHandValuesWithTies) {
  // Perfect separation.
  EXPECT_DOUBLE_EQ(prn::auroc(torch::tensor({0.1, 0.2, 0.8, 0.9}), torch::tensor({0, 0, 1, 1})), 1.0);
  // Inverted.
  EXPECT_DOUBLE_EQ(prn::auroc(torch::tensor({0.9, 0.8, 0.2, 0.1}), torch::tensor({0, 0, 1, 1})), 0.0);
  // All tied: 0.5.
  EXPECT_DOUBLE_EQ(prn::auroc(torch::ones({6}), torch::tensor({0, 1, 0, 1, 0, 1})), 0.5);
  // scikit-learn: roc_auc_score([0,0,1,1,1],[0.1,0.4,0.35,0.8,0.4]) = 0.75
  EXPECT_NEAR(prn::auroc(torch::tensor({0.1, 0.4, 0.35, 0.8, 0.4}), torch::tensor({0, 0, 1, 1, 1})),
              0.75, 1e-12);
  EXPECT_PRN_ERROR(prn::auroc(torch::ones({3}), torch::zeros({3})), "0 positive");
}
