// The labelled texture crops the encoder's texture pretraining learns from
// (prn::data::TextureCrops).
#include "prn/data/texture_crops.h"
#include "test_util.h"

namespace {

// Three flat textures of different colours and sizes (one smaller than a crop).
std::vector<torch::Tensor> flat_textures() {
  return {torch::tensor({0.1f, 0.2f, 0.3f}).view({3, 1, 1}).expand({3, 40, 50}).contiguous(),
          torch::tensor({0.9f, 0.5f, 0.0f}).view({3, 1, 1}).expand({3, 200, 120}).contiguous(),
          torch::tensor({0.4f, 0.4f, 0.8f}).view({3, 1, 1}).expand({3, 8, 8}).contiguous()};
}

} // namespace

TEST(TextureCrops, BatchesOfLabelledCropsDeterministicPerIndex) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  std::vector<torch::Tensor> textures{at::rand({3, 64, 64}, gen, torch::kFloat32),
                                      at::rand({3, 30, 90}, gen, torch::kFloat32),
                                      at::rand({3, 300, 200}, gen, torch::kFloat32)};
  prn::data::TextureCropOptions o;
  o.crop = 48;
  const prn::data::TextureCrops crops(textures, o, 9);
  EXPECT_EQ(crops.classes(), 3);
  auto [images, labels] = crops.batch(5, 32);
  EXPECT_EQ(images.sizes(), torch::IntArrayRef({32, 3, 48, 48}));
  EXPECT_EQ(images.scalar_type(), torch::kFloat32);
  EXPECT_EQ(labels.sizes(), torch::IntArrayRef({32}));
  EXPECT_EQ(labels.scalar_type(), torch::kInt64);
  EXPECT_GE(images.min().item<float>(), 0.0f);
  EXPECT_LE(images.max().item<float>(), 1.0f);
  EXPECT_GE(labels.min().item<int64_t>(), 0);
  EXPECT_LE(labels.max().item<int64_t>(), 2);
  EXPECT_EQ(std::get<0>(at::_unique(labels)).numel(), 3) << "32 draws of 3 classes should hit every class";

  // Batch i depends on (seed, i) only.
  auto again = crops.batch(5, 32);
  EXPECT_TRUE(torch::equal(again.first, images));
  EXPECT_TRUE(torch::equal(again.second, labels));
  EXPECT_FALSE(torch::equal(crops.batch(6, 32).first, images));
  EXPECT_FALSE(torch::equal(prn::data::TextureCrops(textures, o, 10).batch(5, 32).first, images));
}

TEST(TextureCrops, EachCropComesFromTheTextureItsLabelNames) {
  prn::data::TextureCropOptions o;
  o.crop = 32;
  o.grey = 0;
  o.contrast = 0;
  o.brightness = 0;
  const auto textures = flat_textures();
  const prn::data::TextureCrops crops(textures, o, 3);
  auto [images, labels] = crops.batch(0, 24);
  for (int64_t b = 0; b < 24; ++b) {
    const auto colour = textures[labels[b].item<int64_t>()].select(1, 0).select(1, 0).view({3, 1, 1});
    EXPECT_TRUE(torch::allclose(images[b], colour.expand({3, 32, 32}), 0, 1e-5)) << "crop " << b;
  }
  // Grey crops: the three channels equal.
  o.grey = 1;
  auto grey = prn::data::TextureCrops(textures, o, 3).batch(0, 8).first;
  EXPECT_TRUE(torch::allclose(grey.select(1, 0), grey.select(1, 2)));
}

TEST(TextureCrops, BadInputIsNamed) {
  prn::data::TextureCropOptions o;
  EXPECT_PRN_ERROR(prn::data::TextureCrops({torch::rand({3, 32, 32})}, o, 0), "expected at least 2 textures", "got 1");
  EXPECT_PRN_ERROR(prn::data::TextureCrops({torch::rand({3, 32, 32}), torch::rand({1, 32, 32})}, o, 0),
                   "texture 1: expected (3, H, W) float32", "[1, 32, 32]");
  o.crop = 8;
  EXPECT_PRN_ERROR(prn::data::TextureCrops(flat_textures(), o, 0), "expected a crop of at least 16 pixels, got 8");
  o.crop = 32;
  o.contrast = 1.5;
  EXPECT_PRN_ERROR(prn::data::TextureCrops(flat_textures(), o, 0), "contrast jitter in [0, 1), got 1.5");
  o.contrast = 0.2;
  const prn::data::TextureCrops crops(flat_textures(), o, 0);
  EXPECT_PRN_ERROR(crops.batch(0, 0), "expected a batch of at least 1, got 0");
}
