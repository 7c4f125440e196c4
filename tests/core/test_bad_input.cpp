// Bad input: an exception that says what was expected and what was received.
#include "prn/encoder.h"
#include "prn/model.h"
#include "prn/state_dict.h"
#include "prn/synthetic.h"
#include "test_util.h"

namespace {

prn::PrnModel light_model() {
  auto c = prn::ModelConfig::light();
  c.num_prototypes = 1;
  prn::PrnModel model(c, 0);
  prn::SyntheticTextures gen(c.input_size, 0);
  model->fit_prototypes(gen.normal_images(2), 0);
  return model;
}

} // namespace

TEST(BadInput, WrongShapesChannelsAndDtypes) {
  auto model = light_model();
  EXPECT_PRN_ERROR(model->forward(torch::rand({1, 3, 256, 256})), "(B, 3, 128, 128)", "[1, 3, 256, 256]");
  EXPECT_PRN_ERROR(model->forward(torch::rand({1, 1, 128, 128})), "(B, 3, 128, 128)", "[1, 1, 128, 128]");
  EXPECT_PRN_ERROR(model->forward(torch::rand({3, 128, 128})), "(B, 3, 128, 128)", "[3, 128, 128]");
  EXPECT_PRN_ERROR(model->forward(torch::rand({1, 3, 128, 128}, torch::kFloat64)), "float32", "Double");
  EXPECT_PRN_ERROR(model->forward(torch::zeros({1, 3, 128, 128}, torch::kUInt8)), "float32", "Byte");
  EXPECT_PRN_ERROR(model->forward(torch::rand({0, 3, 128, 128})), "empty batch");
  EXPECT_PRN_ERROR(model->forward(torch::Tensor()), "undefined");
}

TEST(BadInput, NonFiniteValues) {
  auto model = light_model();
  auto x = torch::rand({1, 3, 128, 128});
  x[0][1][5][5] = std::numeric_limits<float>::infinity();
  EXPECT_PRN_ERROR(model->forward(x), "finite");
  x[0][1][5][5] = std::nanf("");
  EXPECT_PRN_ERROR(model->forward(x), "NaN");
  // -Inf, and a NaN as the very last value of a batch (the check is one
  // min/max pass: neither may slip through it)
  auto y = torch::rand({2, 3, 128, 128});
  y[0][2][127][127] = -std::numeric_limits<float>::infinity();
  EXPECT_PRN_ERROR(model->forward(y), "finite");
  y[0][2][127][127] = 0.5f;
  y[1][2][127][127] = std::nanf("");
  EXPECT_PRN_ERROR(model->forward(y), "NaN");
  y[1][2][127][127] = 0.5f;
  EXPECT_NO_THROW(model->forward(y));
}

TEST(BadInput, UnfittedPrototypes) {
  prn::PrnModel model(prn::ModelConfig::light(), 0);
  EXPECT_PRN_ERROR(model->forward(torch::rand({1, 3, 128, 128})), "prototypes are not fitted");
  EXPECT_PRN_ERROR(model->set_prototypes({torch::zeros({2, 64, 32, 32}), torch::zeros({2, 128, 16, 16}),
                                          torch::zeros({2, 256, 9, 9})}),
                   "scale 2", "(2, 256, 8, 8)", "[2, 256, 9, 9]");
}

TEST(BadInput, MissingAndCorruptWeightFiles) {
  prn::test::TempDir dir;
  prn::Encoder enc;
  EXPECT_PRN_ERROR(enc->load_torchvision(dir.file("nope.pth")), "nope.pth", "cannot open");
  prn::test::write_bytes(dir.file("empty.pth"), "");
  EXPECT_PRN_ERROR(enc->load_torchvision(dir.file("empty.pth")), "empty.pth", "empty");
  prn::test::write_bytes(dir.file("text.pth"), "hello, I am not a weights file");
  EXPECT_PRN_ERROR(enc->load_torchvision(dir.file("text.pth")), "text.pth", "not a torch.save file");
  // A real archive, truncated.
  prn::write_state_dict(dir.file("ok.pth"), {{"conv1.weight", torch::rand({64, 3, 7, 7})}});
  std::ifstream in(dir.file("ok.pth"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  prn::test::write_bytes(dir.file("cut.pth"), bytes.substr(0, bytes.size() / 2));
  EXPECT_PRN_ERROR(enc->load_torchvision(dir.file("cut.pth")), "cut.pth", "corrupt or truncated");
  // Readable, but incomplete: names what is missing.
  EXPECT_PRN_ERROR(enc->load_torchvision(dir.file("ok.pth")), "ok.pth", "89 missing keys", "bn1.weight [64]");
}

TEST(BadInput, MismatchedShapesAreListed) {
  prn::test::TempDir dir;
  prn::Encoder enc;
  prn::TensorMap state;
  for (auto &item : enc->named_parameters())
    state[item.key()] = item.value().clone();
  for (auto &item : enc->named_buffers())
    state[item.key()] = item.value().clone();
  state.erase("input_mean");
  state.erase("input_std");
  state["layer2.0.conv1.weight"] = torch::zeros({128, 64, 5, 5});
  state["layer9.weight"] = torch::zeros({3});
  prn::write_state_dict(dir.file("bad.pth"), state);
  EXPECT_PRN_ERROR(enc->load_torchvision(dir.file("bad.pth")), "layer2.0.conv1.weight: expected [128, 64, 3, 3], got [128, 64, 5, 5]",
                   "unexpected keys", "layer9.weight");
}
