// The model bundle: calibration, fields, round trip.
#include "prn/bundle.h"
#include "prn/synthetic.h"
#include "test_util.h"

namespace {

prn::PrnModel tiny_model() {
  auto c = prn::ModelConfig::light();
  c.num_prototypes = 1;
  prn::PrnModel model(c, 8);
  prn::SyntheticTextures gen(c.input_size, 8);
  model->fit_prototypes(gen.normal_images(2), 8);
  return model;
}

} // namespace

TEST(Calibration, ThresholdsAreQuantilesOfHeldOutNormals) {
  auto scores = torch::tensor({0.1, 0.2, 0.3, 0.4, 0.5}, torch::kFloat32);
  auto pixels = torch::linspace(0, 1, 1001).view({1, 1, 1, 1001});
  auto c = prn::calibrate(scores, pixels, 1.0, 0.9);
  EXPECT_TRUE(c.calibrated);
  EXPECT_EQ(c.normal_images, 5);
  EXPECT_NEAR(c.image_threshold, 0.5, 1e-6);
  EXPECT_NEAR(c.pixel_threshold, 0.9, 1e-6);
  EXPECT_NEAR(c.image_min, 0.1, 1e-6);
  EXPECT_NEAR(c.image_max, 0.5, 1e-6);
  EXPECT_NEAR(prn::calibrate(scores, pixels, 0.5, 0.5).image_threshold, 0.3, 1e-6);
  // Normalised: 0.5 at the threshold.
  EXPECT_NEAR(c.normalise_image(0.5), 0.5, 1e-12);
  EXPECT_NEAR(c.normalise_image(0.6), 0.75, 1e-9);
  EXPECT_DOUBLE_EQ(c.normalise_image(10.0), 1.0);
  auto n = c.normalise_pixels(torch::tensor({0.0, 0.9, 1.0, 0.45}));
  EXPECT_NEAR(n[0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(n[1].item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(n[2].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(n[3].item<double>(), 0.25, 1e-6);
  EXPECT_PRN_ERROR(prn::calibrate(torch::zeros({0}), pixels), "at least one");
  EXPECT_PRN_ERROR(prn::calibrate(scores, pixels, 1.5), "(0, 1]", "1.5");
}

TEST(Bundle, RoundTripKeepsEveryField) {
  prn::test::TempDir dir;
  prn::Bundle b;
  b.model = tiny_model();
  b.category = "fabric";
  b.calibration = prn::calibrate(torch::tensor({0.2f, 0.3f}), torch::rand({2, 1, 8, 8}));
  b.seen_anomalies = {"test/scratch/000.png", "test/hole/003.png"};
  b.provenance = {{"seed", "7"}, {"dataset_hash", "abc"}};
  prn::save_bundle(dir.file("b.prn"), b);
  EXPECT_FALSE(b.model_id.empty());
  auto r = prn::load_bundle(dir.file("b.prn"));
  EXPECT_EQ(r.category, "fabric");
  EXPECT_TRUE(r.calibration.calibrated);
  EXPECT_DOUBLE_EQ(r.calibration.image_threshold, b.calibration.image_threshold);
  EXPECT_DOUBLE_EQ(r.calibration.pixel_threshold, b.calibration.pixel_threshold);
  EXPECT_EQ(r.seen_anomalies, b.seen_anomalies);
  EXPECT_EQ(r.provenance.at("seed"), "7");
  EXPECT_EQ(r.provenance.at("dataset_hash"), "abc");
  EXPECT_EQ(r.model_id, b.model_id);
  EXPECT_EQ(r.model_id.rfind("fabric-", 0), 0u);
}

TEST(Bundle, APlainModelFileLoadsUncalibrated) {
  prn::test::TempDir dir;
  auto model = tiny_model();
  prn::save_model(dir.file("m.prn"), *model);
  auto b = prn::load_bundle(dir.file("m.prn"));
  EXPECT_FALSE(b.calibration.calibrated);
  EXPECT_TRUE(b.seen_anomalies.empty());
  EXPECT_EQ(b.model_id.rfind("prn-", 0), 0u);
}

TEST(Bundle, BadFieldsAreNamed) {
  prn::test::TempDir dir;
  auto model = tiny_model();
  prn::save_model(dir.file("m.prn"), *model, {{"bundle.image_threshold", "high"}});
  EXPECT_PRN_ERROR(prn::load_bundle(dir.file("m.prn")), "m.prn", "bundle.image_threshold", "'high'");
  EXPECT_PRN_ERROR(prn::load_bundle(dir.file("none.prn")), "none.prn");
}
