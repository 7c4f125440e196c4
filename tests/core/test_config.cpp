#include "prn/config.h"
#include "prn/join_integers.h"
#include "test_util.h"

using prn::ModelConfig;

TEST(Config, PaperIsTheFaithfulShape) {
  auto c = ModelConfig::paper();
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.input_size, 256);
  EXPECT_EQ(c.feature_size(0), 64);
  EXPECT_EQ(c.feature_size(1), 32);
  EXPECT_EQ(c.feature_size(2), 16);
  EXPECT_EQ(c.channels, (std::array<int64_t, 3>{128, 256, 512}));
  EXPECT_EQ(c.attention_blocks, 3);
  EXPECT_EQ(c.patch_divisors, (std::vector<int64_t>{1, 2, 4, 8}));
  EXPECT_DOUBLE_EQ(c.focal_alpha, 0.5);
  EXPECT_DOUBLE_EQ(c.focal_gamma, 4.0);
  EXPECT_DOUBLE_EQ(c.loss_lambda, 5.0);
  EXPECT_EQ(c.top_k, 100);
  EXPECT_EQ(c.kmeans_max_iter, 300);
  EXPECT_DOUBLE_EQ(c.prototype_ratio, 0.1);
}

TEST(Config, LightHasTheSameStructureAndIsValid) {
  auto c = ModelConfig::light();
  EXPECT_NO_THROW(c.validate());
  EXPECT_LT(c.input_size, 256);
  EXPECT_LT(c.channels[0], 128);
  EXPECT_EQ(ModelConfig::by_name("light"), c);
  EXPECT_EQ(ModelConfig::by_name("paper"), ModelConfig::paper());
}

TEST(Config, UnknownNameIsRejected) { EXPECT_PRN_ERROR(ModelConfig::by_name("huge"), "'huge'", "paper", "light"); }

TEST(Config, RoundTripsThroughItsTextForm) {
  auto c = ModelConfig::light();
  c.focal_alpha = 0.25;
  c.num_prototypes = 7;
  EXPECT_EQ(ModelConfig::from_map(c.to_map()), c);
}

TEST(Config, ListsAreCommaSeparatedInTheTextForm) {
  auto c = ModelConfig::light();
  c.patch_divisors = {1, 2, 4};
  const auto m = c.to_map();
  EXPECT_EQ(m.at("channels"), "32,64,128");
  EXPECT_EQ(m.at("patch_divisors"), "1,2,4");
}

TEST(JoinIntegers, PutsTheSeparatorBetweenValuesOnly) {
  EXPECT_EQ(prn::join_integers({64, 128, 256}, "-"), "64-128-256");
  EXPECT_EQ(prn::join_integers({16, 12}, " or "), "16 or 12");
  EXPECT_EQ(prn::join_integers({-3}, ","), "-3");
  EXPECT_EQ(prn::join_integers({}, ","), "");
}

TEST(Config, UnknownKeysAreIgnoredAndMissingKeysDefault) {
  auto m = ModelConfig::light().to_map();
  m["some_future_field"] = "42";
  m.erase("top_k");
  auto c = ModelConfig::from_map(m);
  EXPECT_EQ(c.top_k, 100);
  EXPECT_EQ(c.input_size, 128);
}

TEST(Config, InconsistentFieldsAreNamed) {
  auto c = ModelConfig::paper();
  c.input_size = 250;
  EXPECT_PRN_ERROR(c.validate(), "input_size", "250");
  c = ModelConfig::paper();
  c.channels = {128, 200, 512};
  EXPECT_PRN_ERROR(c.validate(), "channels", "double");
  c = ModelConfig::paper();
  c.patch_divisors = {1, 3};
  EXPECT_PRN_ERROR(c.validate(), "patch divisor 3");
  auto m = ModelConfig::paper().to_map();
  m["input_size"] = "big";
  EXPECT_PRN_ERROR(ModelConfig::from_map(m), "input_size", "big");
}
