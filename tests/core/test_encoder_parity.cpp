// The C++ encoder against torchvision's own forward, on weights torchvision
// saves during this test run.
#include "prn/encoder.h"
#include "test_util.h"

#include <cstdlib>

// Not in an anonymous namespace: TEST_F derives from it.
class EncoderParity : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new prn::test::TempDir();
    const char *py = std::getenv("PRN_TEST_PYTHON");
    const char *script = std::getenv("PRN_FIXTURE_SCRIPT");
    ASSERT_TRUE(py && script) << "PRN_TEST_PYTHON and PRN_FIXTURE_SCRIPT must be set (meson test sets them)";
    const std::string cmd = std::string("'") + py + "' '" + script + "' '" + dir_->path() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "fixture script failed: " << cmd;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string &name) { return dir_->file(name); }

  static void expect_parity(const std::string &weights) {
    prn::Encoder enc;
    enc->load_torchvision(file(weights));
    auto x = prn::test::read_bin(file("input.bin"));
    auto out = enc->forward(x);
    const char *names[3] = {"layer1.bin", "layer2.bin", "layer3.bin"};
    for (int s = 0; s < 3; ++s) {
      auto ref = prn::test::read_bin(file(names[s]));
      ASSERT_EQ(out[s].sizes(), ref.sizes()) << names[s];
      const double err = (out[s] - ref).abs().max().item<double>();
      EXPECT_LE(err, 1e-4) << names[s] << " differs from torchvision by " << err;
      EXPECT_GT(ref.abs().max().item<double>(), 0.1) << "degenerate fixture";
    }
  }

  static prn::test::TempDir *dir_;
};
prn::test::TempDir *EncoderParity::dir_ = nullptr;

TEST_F(EncoderParity, TorchvisionStateDictFileMatchesTorchvisionForward) { expect_parity("resnet18.pth"); }

TEST_F(EncoderParity, PlainDictFileLoadsToo) { expect_parity("resnet18_plain.pth"); }

TEST_F(EncoderParity, LegacyNonZipFormatLoadsToo) { expect_parity("resnet18_legacy.pth"); }

TEST_F(EncoderParity, TruncatedTorchvisionFilesAreNamed) {
  for (const char *name : {"resnet18.pth", "resnet18_legacy.pth"}) {
    std::ifstream in(file(name), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t keep : {size_t{100}, bytes.size() / 2, bytes.size() - 10}) {
      prn::test::write_bytes(file("cut.pth"), bytes.substr(0, keep));
      prn::Encoder enc;
      EXPECT_PRN_ERROR(enc->load_torchvision(file("cut.pth")), "cut.pth");
    }
  }
}

TEST_F(EncoderParity, AnotherArchitectureIsRejectedWithItsKeys) {
  prn::Encoder enc;
  EXPECT_PRN_ERROR(enc->load_torchvision(file("resnet18_wrong.pth")), "resnet18_wrong.pth",
                   "not a torchvision resnet18", "84 unexpected keys", "layer1.2.bn1.bias [64]");
}

TEST_F(EncoderParity, ParametersAreFrozen) {
  prn::Encoder enc;
  enc->load_torchvision(file("resnet18.pth"));
  for (auto &p : enc->parameters())
    EXPECT_FALSE(p.requires_grad());
  auto x = prn::test::read_bin(file("input.bin")).requires_grad_(true);
  auto out = enc->forward(x);
  EXPECT_FALSE(out[2].requires_grad());
}
