// Anomaly-map smoothing (prn::smooth_maps) against hand-computed Gaussian
// weights, and the model config's map_sigma that applies it.
#include "prn/config.h"
#include "prn/model.h"
#include "prn/postprocess.h"
#include "prn/synthetic.h"
#include "test_util.h"

#include <cmath>
#include <vector>

namespace {

// The normalised 1-D weights of radius ceil(4 sigma), computed here in double.
std::vector<double> gaussian(double sigma) {
  const int r = static_cast<int>(std::ceil(4 * sigma));
  std::vector<double> w;
  double sum = 0;
  for (int i = -r; i <= r; ++i) {
    w.push_back(std::exp(-0.5 * i * i / (sigma * sigma)));
    sum += w.back();
  }
  for (double &v : w)
    v /= sum;
  return w;
}

} // namespace

TEST(SmoothMaps, ZeroSigmaReturnsTheMaps) {
  auto m = torch::rand({2, 1, 8, 8});
  EXPECT_TRUE(prn::smooth_maps(m, 0).equal(m));
}

TEST(SmoothMaps, AnInteriorPeakSpreadsAsTheSeparableGaussian) {
  const double sigma = 1.5; // radius 6
  auto m = torch::zeros({1, 1, 31, 31});
  m[0][0][15][15] = 1.0;
  auto s = prn::smooth_maps(m, sigma);
  ASSERT_EQ(s.sizes(), m.sizes());
  const auto w = gaussian(sigma);
  const int r = static_cast<int>(w.size() / 2);
  auto a = s.accessor<float, 4>();
  for (int y = 0; y < 31; ++y)
    for (int x = 0; x < 31; ++x) {
      const int dy = y - 15, dx = x - 15;
      const double want = (std::abs(dy) <= r && std::abs(dx) <= r) ? w[dy + r] * w[dx + r] : 0.0;
      ASSERT_NEAR(a[0][0][y][x], want, 1e-7) << "at (" << y << ", " << x << ")";
    }
  EXPECT_NEAR(s.sum().item<double>(), 1.0, 1e-5); // mass kept away from the borders
  // The peak falls to about 1 / (2 pi sigma^2).
  EXPECT_NEAR(a[0][0][15][15], 1.0 / (2 * M_PI * sigma * sigma), 0.01);
}

TEST(SmoothMaps, ConstantMapsStayConstantAndWideHeatKeepsItsLevel) {
  auto c = torch::full({2, 16, 16}, 0.3);
  EXPECT_TRUE(torch::allclose(prn::smooth_maps(c, 2.0), c, 0, 1e-6));
  // A 21x21 square of 1 on 0: its centre stays near 1, a lone pixel of 1 falls below 0.05.
  auto m = torch::zeros({1, 1, 64, 64});
  m.index_put_({0, 0, torch::indexing::Slice(10, 31), torch::indexing::Slice(10, 31)}, 1.0);
  m[0][0][50][50] = 1.0;
  auto s = prn::smooth_maps(m, 2.0);
  EXPECT_GT(s[0][0][20][20].item<float>(), 0.99f);
  EXPECT_LT(s[0][0][50][50].item<float>(), 0.05f);
}

TEST(SmoothMaps, BordersMirrorWithoutRepeatingTheEdge) {
  // Padding mirrors about the edge pixel (c b | a b c): a peak on column 0 has
  // no mirror image, a peak on column 1 gets one on column -1.
  const double sigma = 0.8; // radius 4
  const auto w = gaussian(sigma);
  const int r = static_cast<int>(w.size() / 2);
  auto edge = torch::zeros({1, 1, 1, 12}); // one row: the vertical pass has radius 0
  edge[0][0][0][0] = 1.0;
  auto e = prn::smooth_maps(edge, sigma);
  EXPECT_NEAR(e[0][0][0][0].item<float>(), w[r], 1e-6);
  EXPECT_NEAR(e[0][0][0][1].item<float>(), w[r + 1], 1e-6);
  auto inner = torch::zeros({1, 1, 1, 12});
  inner[0][0][0][1] = 1.0;
  auto s = prn::smooth_maps(inner, sigma);
  EXPECT_NEAR(s[0][0][0][0].item<float>(), 2 * w[r + 1], 1e-6);   // distance 1 from both
  EXPECT_NEAR(s[0][0][0][1].item<float>(), w[r] + w[r + 2], 1e-6); // 0 and 2
  EXPECT_NEAR(s[0][0][0][3].item<float>(), w[r + 2] + w[r + 4], 1e-6);
}

TEST(SmoothMaps, BadInputIsNamed) {
  EXPECT_PRN_ERROR(prn::smooth_maps(torch::zeros({2, 3, 4, 4}), 1.0), "(B, 1, H, W)");
  EXPECT_PRN_ERROR(prn::smooth_maps(torch::zeros({1, 4, 4}), -1.0), "sigma >= 0", "-1");
  EXPECT_PRN_ERROR(prn::smooth_maps(torch::zeros({1, 4, 4}, torch::kInt32), 1.0), "floating-point");
}

TEST(MapSigma, RecordedOnlyWhenSetAndValidated) {
  auto c = prn::ModelConfig::light();
  EXPECT_EQ(c.map_sigma, 0.0);
  EXPECT_EQ(c.to_map().count("map_sigma"), 0u); // older files keep their bytes
  c.map_sigma = 2.5;
  EXPECT_EQ(c.to_map().at("map_sigma"), "2.5");
  EXPECT_EQ(prn::ModelConfig::from_map(c.to_map()), c);
  c.map_sigma = -1;
  EXPECT_PRN_ERROR(c.validate(), "map_sigma", "-1");
  auto m = prn::ModelConfig::light().to_map();
  m["map_sigma"] = "wide";
  EXPECT_PRN_ERROR(prn::ModelConfig::from_map(m), "map_sigma", "wide");
}

TEST(MapSigma, AnomalyMapIsTheSmoothedSigmoid) {
  auto model = prn::test::fitted_light_model(1);
  model->eval();
  auto images = prn::SyntheticTextures(model->config().input_size, 5).normal_images(2);
  auto plain = model->anomaly_map(images);
  model->set_map_sigma(3.0);
  EXPECT_EQ(model->config().map_sigma, 3.0);
  auto smoothed = model->anomaly_map(images);
  EXPECT_TRUE(torch::allclose(smoothed, prn::smooth_maps(plain, 3.0), 0, 1e-6));
  EXPECT_LT(smoothed.max().item<float>(), plain.max().item<float>());
  EXPECT_PRN_ERROR(model->set_map_sigma(-2), "map_sigma");
  EXPECT_EQ(model->config().map_sigma, 3.0); // a refused value changes nothing
}
