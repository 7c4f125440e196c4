// The encoder's texture pretraining (prn::pretrain_encoder), the stand-in for
// ImageNet weights: it learns to tell textures apart, leaves the encoder frozen,
// and what it writes loads back as a torchvision resnet18 file.
#include "prn/encoder_pretraining.h"
#include "prn/state_dict.h"
#include "test_util.h"

namespace {

constexpr int64_t kCrop = 32;

// Four textures that differ in their local statistics, not in their mean tone:
// fine noise, coarse blobs, vertical stripes, a smooth diagonal ramp.
std::vector<torch::Tensor> four_textures() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const int64_t n = 128;
  std::vector<torch::Tensor> t;
  t.push_back(at::rand({3, n, n}, gen, torch::kFloat32));
  auto blobs = at::rand({1, 3, n / 16, n / 16}, gen, torch::kFloat32);
  t.push_back(at::upsample_bilinear2d(blobs, {n, n}, false).squeeze(0));
  auto x = torch::arange(n, torch::kFloat32);
  t.push_back((0.5 + 0.5 * torch::sin(x * 0.8)).view({1, 1, n}).expand({3, n, n}).contiguous());
  t.push_back(((x.view({n, 1}) + x.view({1, n})) / (2 * n)).expand({3, n, n}).contiguous());
  return t;
}

// Batch i: `b` random crops, labelled by their texture.
std::pair<torch::Tensor, torch::Tensor> crops(const std::vector<torch::Tensor> &textures, int64_t i, int64_t b) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + i);
  auto labels = at::randint(0, static_cast<int64_t>(textures.size()), {b}, gen, torch::kInt64);
  auto corners = at::randint(0, textures[0].size(1) - kCrop, {b, 2}, gen, torch::kInt64);
  auto images = torch::empty({b, 3, kCrop, kCrop});
  for (int64_t k = 0; k < b; ++k)
    images[k].copy_(textures[labels[k].item<int64_t>()]
                        .narrow(1, corners[k][0].item<int64_t>(), kCrop)
                        .narrow(2, corners[k][1].item<int64_t>(), kCrop));
  return {images, labels};
}

double accuracy_of_nearest_class_mean(prn::EncoderImpl &encoder, const std::vector<torch::Tensor> &textures) {
  // Training-free read-out of the features: class means on one set of crops,
  // nearest mean on another.
  auto [train_x, train_y] = crops(textures, 50000, 64);
  auto [test_x, test_y] = crops(textures, 60000, 64);
  auto feat = [&](const torch::Tensor &x) { return encoder.forward(x)[2].mean({2, 3}); };
  auto f = feat(train_x), g = feat(test_x);
  std::vector<torch::Tensor> means;
  for (int64_t c = 0; c < static_cast<int64_t>(textures.size()); ++c)
    means.push_back(f.index({train_y == c}).mean(0));
  auto d = torch::cdist(g, torch::stack(means));
  return d.argmin(1).eq(test_y).to(torch::kFloat64).mean().item<double>();
}

} // namespace

TEST(EncoderPretraining, LearnsToTellTexturesApartAndFreezesTheEncoderAgain) {
  torch::set_num_threads(2);
  const auto textures = four_textures();
  prn::Encoder encoder;
  encoder->reset_parameters(3);
  const auto bn_mean_before = encoder->named_buffers()["layer2.0.bn1.running_mean"].clone();
  const double random_accuracy = accuracy_of_nearest_class_mean(*encoder, textures);
  prn::EncoderPretrainingOptions o;
  o.steps = 40;
  std::vector<prn::PretrainingStep> steps;
  const int64_t done = prn::pretrain_encoder(
      *encoder, 4, [&](int64_t i) { return crops(textures, i, 16); }, o, [&](int64_t step, const prn::PretrainingStep &s) {
        EXPECT_EQ(step, static_cast<int64_t>(steps.size()) + 1);
        EXPECT_TRUE(encoder->trainable());
        steps.push_back(s);
        return true;
      });
  EXPECT_EQ(done, 40);
  ASSERT_EQ(steps.size(), 40u);
  EXPECT_DOUBLE_EQ(steps.front().lr, o.lr);            // cosine schedule: full rate first,
  EXPECT_LT(steps.back().lr, 0.01 * o.lr);             // close to 0 at the end
  double first = 0, last = 0, last_accuracy = 0;
  for (int i = 0; i < 5; ++i) {
    first += steps[i].loss / 5;
    last += steps[35 + i].loss / 5;
    last_accuracy += steps[35 + i].accuracy / 5;
  }
  std::printf("cross-entropy first 5 steps %.3f, last 5 %.3f (accuracy %.2f)\n", first, last, last_accuracy);
  EXPECT_LT(last, 0.5 * first);
  EXPECT_GT(last_accuracy, 0.8); // chance: 0.25

  // Frozen again, its BatchNorm statistics learnt from the crops.
  EXPECT_FALSE(encoder->trainable());
  EXPECT_FALSE(encoder->is_training());
  for (auto &p : encoder->parameters())
    EXPECT_FALSE(p.requires_grad());
  EXPECT_FALSE(torch::equal(encoder->named_buffers()["layer2.0.bn1.running_mean"], bn_mean_before));
  // Its frozen features now separate the textures without any classifier.
  const double pretrained_accuracy = accuracy_of_nearest_class_mean(*encoder, textures);
  std::printf("nearest-class-mean accuracy on held-out crops: random encoder %.3f, pretrained %.3f\n",
              random_accuracy, pretrained_accuracy);
  EXPECT_GT(pretrained_accuracy, std::max(0.95, random_accuracy + 0.1));
}

TEST(EncoderPretraining, Bfloat16AutocastLearnsAsWellAndKeepsFloat32Weights) {
  torch::set_num_threads(2);
  const auto textures = four_textures();
  prn::Encoder encoder;
  encoder->reset_parameters(3);
  prn::EncoderPretrainingOptions o;
  o.steps = 40;
  o.precision = prn::Precision::BFloat16;
  double last_accuracy = 0;
  prn::pretrain_encoder(*encoder, 4, [&](int64_t i) { return crops(textures, i, 16); }, o,
                        [&](int64_t step, const prn::PretrainingStep &s) {
                          if (step > 35)
                            last_accuracy += s.accuracy / 5;
                          return true;
                        });
  for (auto &p : encoder->parameters()) {
    EXPECT_EQ(p.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(p.is_contiguous()); // back from channels-last
  }
  EXPECT_FALSE(encoder->trainable());
  const double pretrained_accuracy = accuracy_of_nearest_class_mean(*encoder, textures);
  std::printf("bf16: running accuracy of the last 5 steps %.2f, nearest-class-mean accuracy %.3f\n", last_accuracy,
              pretrained_accuracy);
  EXPECT_GT(last_accuracy, 0.8);
  EXPECT_GT(pretrained_accuracy, 0.95);
  // fp16 would need loss scaling: refused, and the encoder stays frozen.
  o.precision = prn::Precision::Float16;
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 4, [&](int64_t i) { return crops(textures, i, 4); }, o),
                   "expected precision fp32 or bf16, got fp16");
  EXPECT_FALSE(encoder->trainable());
}

TEST(EncoderPretraining, WritesAFileThatLoadsBackAsATorchvisionResnet18) {
  const auto textures = four_textures();
  prn::Encoder encoder;
  encoder->reset_parameters(4);
  prn::EncoderPretrainingOptions o;
  o.steps = 2;
  prn::pretrain_encoder(*encoder, 4, [&](int64_t i) { return crops(textures, i, 4); }, o);
  const auto state = prn::encoder_state_dict(*encoder);
  EXPECT_EQ(state.count("conv1.weight"), 1u);
  EXPECT_EQ(state.count("layer3.1.bn2.running_var"), 1u);
  EXPECT_EQ(state.count("input_mean"), 0u); // the encoder's own normalisation is not torchvision's
  prn::test::TempDir dir;
  prn::write_state_dict(dir.file("texture18.pth"), state);
  prn::Encoder loaded;
  loaded->load_torchvision(dir.file("texture18.pth"));
  auto x = crops(textures, 7, 2).first;
  const auto a = encoder->forward(x), b = loaded->forward(x);
  for (int s = 0; s < 3; ++s)
    EXPECT_TRUE(torch::equal(a[s], b[s])) << "scale " << s;
}

TEST(EncoderPretraining, BadInputIsNamedAndTheEncoderStaysFrozen) {
  const auto textures = four_textures();
  prn::Encoder encoder;
  prn::EncoderPretrainingOptions o;
  o.steps = 3;
  auto good = [&](int64_t i) { return crops(textures, i, 4); };
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 1, good, o), "expected at least 2 classes, got 1");
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 3,
                                         [&](int64_t) { return std::make_pair(torch::rand({4, 3, 32, 32}), torch::arange(4)); },
                                         o),
                   "expected labels in [0, 3), got [0, 3]");
  EXPECT_FALSE(encoder->trainable());
  for (auto &p : encoder->parameters())
    EXPECT_FALSE(p.requires_grad());
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 4,
                                         [&](int64_t) { return std::make_pair(torch::rand({2, 1, 32, 32}), torch::zeros({2}, torch::kInt64)); },
                                         o),
                   "expected images (B, 3, H, W)", "[2, 1, 32, 32]");
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 4,
                                         [&](int64_t) { return std::make_pair(torch::rand({2, 3, 32, 32}), torch::zeros({3}, torch::kInt64)); },
                                         o),
                   "expected int64 labels (2)", "[3]");
  o.steps = 0;
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 4, good, o), "expected steps >= 1, got 0");
  o.steps = 1;
  o.lr = 0;
  EXPECT_PRN_ERROR(prn::pretrain_encoder(*encoder, 4, good, o), "expected lr > 0, got 0");
  int64_t calls = 0;
  o.lr = 1e-3;
  o.steps = 10;
  EXPECT_EQ(prn::pretrain_encoder(*encoder, 4, good, o, [&](int64_t, const prn::PretrainingStep &) { return ++calls < 3; }),
            3);
  EXPECT_FALSE(encoder->trainable());
}
