// prn-pretrain-backbone as a program: texture folders in, a weights file out
// that prn-train --backbone takes.
#include "cli_fixture.h"

#include "prn/bundle.h"
#include "prn/mixed_precision.h"
#include "prn/state_dict.h"

namespace {

using prn::test::run;
using prn::test::slurp;

std::string pretrain_bin() {
  const char *b = std::getenv("PRN_PRETRAIN_BIN");
  return b ? b : "";
}

// Three noise textures of different grain in DIR/textures (one in a sub-folder), one more in DIR/other.
std::string make_textures(const prn::test::TempDir &dir) {
  namespace fs = std::filesystem;
  const std::string root = dir.file("textures");
  fs::create_directories(root + "/sub");
  fs::create_directories(dir.file("other"));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  auto noise = [&](int64_t grain) {
    auto small = at::rand({1, 3, 96 / grain, 96 / grain}, gen, torch::kFloat32);
    return at::upsample_bilinear2d(small, {96, 96}, false).squeeze(0);
  };
  cv::imwrite(root + "/fine.png", prn::test::to_png(noise(1)));
  cv::imwrite(root + "/medium.png", prn::test::to_png(noise(4)));
  cv::imwrite(root + "/sub/coarse.png", prn::test::to_png(noise(16)));
  cv::imwrite(dir.file("other/extra.png"), prn::test::to_png(noise(2)));
  return root;
}

} // namespace

TEST(PretrainBackboneCli, WritesWeightsThatPrnTrainTakesAsItsBackbone) {
  ASSERT_FALSE(pretrain_bin().empty()) << "PRN_PRETRAIN_BIN must be set (meson test sets it)";
  prn::test::TempDir dir;
  const std::string textures = make_textures(dir), weights = dir.file("texture18.pth"), log = dir.file("log.txt");
  ASSERT_EQ(run(pretrain_bin() + " --textures '" + textures + "' --textures '" + dir.file("other/extra.png") +
                "' --exclude medium --steps 3 --batch 4 --crop 32 --precision bf16 --threads 1 --out '" + weights +
                "' > '" + log +
                "' 2>&1"),
            0)
      << slurp(log);
  const std::string out = slurp(log);
  EXPECT_NE(out.find("3 textures (classes), 3 steps of 4 crops of 32x32"), std::string::npos) << out;
  EXPECT_NE(out.find(", bf16, 1 threads"), std::string::npos) << out;
  EXPECT_NE(out.find("use it with prn-train --backbone"), std::string::npos) << out;

  const prn::TensorMap state = prn::read_state_dict(weights);
  EXPECT_EQ(state.at("conv1.weight").sizes(), torch::IntArrayRef({64, 3, 7, 7}));
  EXPECT_EQ(state.at("conv1.weight").scalar_type(), torch::kFloat32); // bf16 only in the forward pass
  EXPECT_TRUE(state.at("layer1.0.conv1.weight").is_contiguous());
  EXPECT_EQ(state.count("layer3.1.bn2.running_mean"), 1u);

  const std::string data = prn::test::make_dataset(dir), bundle = dir.file("b.prn");
  ASSERT_EQ(run(prn::test::train_bin() + " --data '" + data + "' --out '" + bundle + "' --backbone '" + weights +
                "' --config light --batch 2,1,1 --steps 2 --seen 1 --workers 1 --threads 1 --seed 3 > '" + log +
                "' 2>&1"),
            0)
      << slurp(log);
  prn::Bundle b = prn::load_bundle(bundle);
  EXPECT_EQ(b.provenance.at("backbone"), "texture18.pth");
  // The encoder is the file's, untouched by PRN's training (frozen).
  auto params = b.model->encoder()->named_parameters();
  EXPECT_TRUE(torch::equal(params["conv1.weight"], state.at("conv1.weight")));
  EXPECT_TRUE(torch::equal(params["layer3.1.conv2.weight"], state.at("layer3.1.conv2.weight")));
}

TEST(PretrainBackboneCli, AutoPrecisionSaysWhatItTookAndWhy) {
  ASSERT_FALSE(pretrain_bin().empty());
  prn::test::TempDir dir;
  const std::string textures = make_textures(dir), log = dir.file("log.txt");
  ASSERT_EQ(run(pretrain_bin() + " --textures '" + textures + "' --steps 1 --batch 4 --crop 32 --threads 1 --out '" +
                dir.file("w.pth") + "' > '" + log + "' 2>&1"),
            0)
      << slurp(log);
  const std::string out = slurp(log);
  const std::string taken = prn::test::auto_precision_taken(out);
  ASSERT_TRUE(taken == "bf16" || taken == "fp32") << out;
  EXPECT_NE(out.find(", " + taken + ", 1 threads"), std::string::npos) << "the run uses what auto took:\n" << out;
  if (!prn::cpu_has_native_bf16())
    EXPECT_NE(out.find("fp32 (this CPU has no bfloat16 instructions)"), std::string::npos) << out;
}

TEST(PretrainBackboneCli, BadOptionsAreNamedAndNothingIsWritten) {
  ASSERT_FALSE(pretrain_bin().empty());
  prn::test::TempDir dir;
  const std::string textures = make_textures(dir), weights = dir.file("w.pth"), err = dir.file("err.txt");
  auto fails = [&](const std::string &args, const std::string &expected) {
    EXPECT_EQ(run(pretrain_bin() + " " + args + " > /dev/null 2> '" + err + "'"), 2) << args;
    const std::string msg = slurp(err);
    EXPECT_NE(msg.find(expected), std::string::npos) << args << ": " << msg;
  };
  fails("--textures '" + textures + "'", "--out FILE is required");
  fails("--textures '" + dir.file("nope") + "' --out '" + weights + "'", "--textures '" + dir.file("nope") +
                                                                             "': no such file or folder");
  fails("--textures '" + dir.file("other") + "' --out '" + weights + "'", "at least 2 texture files");
  fails("--textures '" + textures + "' --exclude .png --out '" + weights + "'", "0 left of 3 after --exclude");
  fails("--textures '" + textures + "' --crop 8 --out '" + weights + "'", "--crop");
  fails("--textures '" + textures + "' --bogus --out '" + weights + "'", "unknown option '--bogus'");
  fails("--textures '" + textures + "' --precision fp16 --out '" + weights + "'",
        "--precision: expected auto, fp32 or bf16, got 'fp16'");
  EXPECT_FALSE(std::filesystem::exists(weights));
}
