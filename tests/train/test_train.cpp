// The prn-train binary on a tiny MVTec-layout dataset: resume, interruption,
// schedules, preview, structure options, precision, bad options (its parts in
// process: test_train_parts.cpp).
#include "cli_fixture.h"
#include "test_util.h"
#include "train/metrics_log.h"

#include "prn/bundle.h"
#include "prn/mixed_precision.h"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using prn::test::make_dataset;
using prn::test::run;
using prn::test::run_train;
using prn::test::train_bin;

std::string common_args(const std::string &data, const std::string &out) {
  return " --data '" + data + "' --out '" + out + "' --config light --batch 2,1,1 --steps 4 --seen 1 --lr 1e-3 --adapt-steps 0" +
         " --workers 1 --threads 1 --seed 3 > /dev/null 2>&1";
}

} // namespace

TEST(TrainCli, ResumeContinuesExactlyWhereItStopped) {
  ASSERT_FALSE(train_bin().empty()) << "PRN_TRAIN_BIN must be set (meson test sets it)";
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  ASSERT_EQ(run(train_bin() + common_args(data, dir.file("full.prn"))), 0);
  // The same run in two invocations: stop after 2 steps, then resume.
  ASSERT_EQ(run(train_bin() + " --stop-after 2" + common_args(data, dir.file("split.prn"))), 130);
  ASSERT_TRUE(std::filesystem::exists(dir.file("split-train/checkpoint.ckpt")));
  ASSERT_EQ(run(train_bin() + " --resume '" + dir.file("split-train/checkpoint.ckpt") + "'" +
                common_args(data, dir.file("split.prn"))),
            0);
  auto full = prn::load_bundle(dir.file("full.prn"));
  auto split = prn::load_bundle(dir.file("split.prn"));
  EXPECT_EQ(full.model_id, split.model_id) << "a resumed run must end with the same weights";
  EXPECT_EQ(full.seen_anomalies.size(), 1u);
  EXPECT_EQ(split.seen_anomalies, full.seen_anomalies);
  EXPECT_TRUE(full.calibration.calibrated);
  EXPECT_EQ(full.category, "tiny");
  EXPECT_TRUE(std::filesystem::exists(dir.file("full-train/loss.png")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("full-train/metrics.jsonl")));
  // The resumed run's log holds every step once, as the uninterrupted one does.
  const auto full_log = prn::train::read_metrics_log(dir.file("full-train/metrics.jsonl"), 1 << 30);
  const auto split_log = prn::train::read_metrics_log(dir.file("split-train/metrics.jsonl"), 1 << 30);
  ASSERT_EQ(split_log.size(), full_log.size());
  for (size_t i = 0; i < split_log.size(); ++i) {
    EXPECT_EQ(split_log[i].step, static_cast<int64_t>(i + 1));
    EXPECT_DOUBLE_EQ(split_log[i].loss, full_log[i].loss) << "step " << i + 1;
  }
  // A checkpoint of another run is refused.
  EXPECT_EQ(run(train_bin() + " --resume '" + dir.file("split-train/checkpoint.ckpt") + "'" +
                " --data '" + data + "' --out '" + dir.file("other.prn") +
                "' --config light --batch 2,1,1 --steps 4 --seen 1 --seed 4 > /dev/null 2>&1"),
            2);
}

TEST(TrainCli, CosineScheduleIsRecordedAndResumesExactly) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  ASSERT_EQ(run(train_bin() + common_args(data, dir.file("constant.prn"))), 0);
  ASSERT_EQ(run(train_bin() + " --lr-schedule cosine" + common_args(data, dir.file("full.prn"))), 0);
  ASSERT_EQ(run(train_bin() + " --lr-schedule cosine --stop-after 2" + common_args(data, dir.file("split.prn"))), 130);
  const std::string ckpt = dir.file("split-train/checkpoint.ckpt");
  // Resumed without the schedule: another run, refused.
  EXPECT_EQ(run(train_bin() + " --resume '" + ckpt + "'" + common_args(data, dir.file("split.prn"))), 2);
  ASSERT_EQ(run(train_bin() + " --lr-schedule cosine --resume '" + ckpt + "'" + common_args(data, dir.file("split.prn"))),
            0);
  const auto constant = prn::load_bundle(dir.file("constant.prn"));
  const auto full = prn::load_bundle(dir.file("full.prn"));
  const auto split = prn::load_bundle(dir.file("split.prn"));
  EXPECT_EQ(full.provenance.at("lr_schedule"), "cosine");
  EXPECT_EQ(constant.provenance.at("lr_schedule"), "constant");
  EXPECT_EQ(full.model_id, split.model_id) << "a resumed cosine run must end with the same weights";
  EXPECT_NE(full.model_id, constant.model_id) << "the schedule must change the training";
}

// --map-sigma is post-processing: the same weights, recorded in the bundle's
// config, and the thresholds calibrated on the smoothed maps.
TEST(TrainCli, MapSigmaIsRecordedAndCalibratesOnSmoothedMaps) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  ASSERT_EQ(run(train_bin() + common_args(data, dir.file("plain.prn"))), 0);
  ASSERT_EQ(run(train_bin() + " --map-sigma 2" + common_args(data, dir.file("smooth.prn"))), 0);
  const auto plain = prn::load_bundle(dir.file("plain.prn"));
  const auto smooth = prn::load_bundle(dir.file("smooth.prn"));
  EXPECT_EQ(plain.model->config().map_sigma, 0.0);
  EXPECT_EQ(smooth.model->config().map_sigma, 2.0);
  EXPECT_EQ(plain.model_id, smooth.model_id) << "smoothing must not change the training";
  EXPECT_LT(smooth.calibration.pixel_threshold, plain.calibration.pixel_threshold)
      << "the 0.999 quantile of smoothed normal maps lies below the raw one";
  auto r = run_train(dir, "--data d --out x.prn --config light --map-sigma -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option --map-sigma"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("map_sigma must be in [0, input_size] pixels, got -1"), std::string::npos) << r.err;
  // Its range is that of the input size the structure options leave: light's 128 px
  // allow 100, --input-size 64 does not; --input-size 256 allows 200 (the run then
  // stops at the missing data folder 'd', not at the option).
  r = run_train(dir, "--data d --out x.prn --config light --input-size 64 --map-sigma 100");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option --map-sigma"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("got 100"), std::string::npos) << r.err;
  r = run_train(dir, "--data d --out x.prn --config light --input-size 256 --map-sigma 200");
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.err.find("map_sigma"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'d'"), std::string::npos) << r.err;
}

TEST(TrainCli, SigintSavesACheckpointAndExitsCleanly) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  const std::string out = dir.file("m.prn");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(train_bin().c_str(), train_bin().c_str(), "--data", data.c_str(), "--out", out.c_str(), "--config",
          "light", "--batch", "2,1,1", "--steps", "100000", "--seen", "1", "--workers", "1", "--threads", "1",
          "--adapt-steps", "0",
          static_cast<char *>(nullptr));
    _exit(127);
  }
  // Wait until training has logged a step, then interrupt.
  const std::string log = dir.file("m-train/metrics.jsonl");
  prn::test::wait_for_first_logged_step(log, 60);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_TRUE(std::filesystem::exists(dir.file("m-train/checkpoint.ckpt")));
  EXPECT_FALSE(std::filesystem::exists(out)) << "no bundle from an interrupted run";
}

TEST(TrainCli, PreviewWritesTheFirstBatchAsAGridAndTrainsNothing) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  ASSERT_EQ(run(train_bin() + common_args(data, dir.file("p.prn")) + " --preview '" + dir.file("batch.png") + "'"), 0);
  EXPECT_FALSE(std::filesystem::exists(dir.file("p.prn")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("p-train")));
  const cv::Mat png = cv::imread(dir.file("batch.png"), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(png.empty());
  // --batch 2,1,1 of the light configuration (128 px, shown at 256): 4 samples,
  // two per row, each image | mask | mask over image, 2-pixel gaps.
  const int T = 256, G = 2;
  EXPECT_EQ(png.cols, 6 * T + 5 * G);
  EXPECT_EQ(png.rows, 2 * T + G);
  auto mask_tile = [&](int sample) {
    return png(cv::Rect(((sample % 2) * 3 + 1) * (T + G), (sample / 2) * (T + G), T, T));
  };
  EXPECT_EQ(cv::countNonZero(mask_tile(0)), 0); // normal images: empty masks
  EXPECT_EQ(cv::countNonZero(mask_tile(1)), 0);
  EXPECT_GT(cv::countNonZero(mask_tile(2)), 0); // extended and simulated anomalies
  EXPECT_GT(cv::countNonZero(mask_tile(3)), 0);
}

// --channels, --patch-divisors, --attention-blocks, --head-channels change the
// named configuration's structure: the bundle records it (name and fields), a
// checkpoint of another structure is refused, and a structure the model
// cannot build is named.
TEST(TrainCli, StructureOptionsAreRecordedInTheBundle) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  const std::string structure =
      " --input-size 64 --channels 16,32,64 --patch-divisors 1,2 --attention-blocks 0 --head-channels 8";
  ASSERT_EQ(run(train_bin() + structure + common_args(data, dir.file("small.prn"))), 0);
  ASSERT_EQ(run(train_bin() + common_args(data, dir.file("plain.prn"))), 0);
  auto small = prn::load_bundle(dir.file("small.prn"));
  const auto plain = prn::load_bundle(dir.file("plain.prn"));
  const auto &c = small.model->config();
  EXPECT_EQ(c.name, "light+input_size=64+channels=16-32-64+patch_divisors=1-2+attention_blocks=0+head_channels=8");
  EXPECT_EQ(c.input_size, 64);
  EXPECT_EQ(c.channels, (std::array<int64_t, 3>{16, 32, 64}));
  EXPECT_EQ(c.patch_divisors, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.attention_blocks, 0);
  EXPECT_EQ(c.head_channels, 8);
  EXPECT_EQ(plain.model->config().name, "light");
  EXPECT_EQ(plain.model->config().head_channels, 16);
  EXPECT_EQ(plain.model->config().input_size, 128);
  // The map comes back at the model's input side.
  EXPECT_EQ(small.model->anomaly_map(torch::rand({1, 3, 64, 64})).size(-1), 64);
  EXPECT_LT(small.model->parameters().size(), plain.model->parameters().size()) << "no attention blocks";

  // A checkpoint of the changed structure does not resume the plain one.
  ASSERT_EQ(run(train_bin() + structure + " --stop-after 2" + common_args(data, dir.file("split.prn"))), 130);
  EXPECT_EQ(run(train_bin() + " --resume '" + dir.file("split-train/checkpoint.ckpt") + "'" +
                common_args(data, dir.file("split.prn"))),
            2);

  auto r = run_train(dir, "--data d --out x.prn --config light --channels 30,62,124");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("channels must double per scale"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--channels"), std::string::npos) << r.err;
  r = run_train(dir, "--data d --out x.prn --config light --patch-divisors 1,3");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("patch divisor 3 does not divide"), std::string::npos) << r.err;
  r = run_train(dir, "--data d --out x.prn --channels 8,x,4");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option --channels: expected comma-separated integers, got 'x'"), std::string::npos) << r.err;
  r = run_train(dir, "--data d --out x.prn --attention-blocks -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option --attention-blocks: expected >= 0, got -1"), std::string::npos) << r.err;
  r = run_train(dir, "--data d --out x.prn --config light --input-size 100");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--input-size"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("input_size must be a positive multiple of 16, got 100"), std::string::npos) << r.err;
}

TEST(TrainCli, BadOptionsAreNamed) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  EXPECT_EQ(run(train_bin() + " --data '" + dir.file("nope") + "' --out x.prn > /dev/null 2>&1"), 2);
  EXPECT_EQ(run(train_bin() + " --data d --out x.prn --batch 1,2 > /dev/null 2>&1"), 2);
  EXPECT_EQ(run(train_bin() + " --bogus > /dev/null 2>&1"), 2);
  EXPECT_EQ(run(train_bin() + " --data d --out x.prn --precision fp8 > /dev/null 2>&1"), 2);
  EXPECT_EQ(run(train_bin() + " --data d --out x.prn --foreground auto > /dev/null 2>&1"), 2);
  const auto r = run_train(dir, "--data d --out x.prn --lr-schedule linear");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("option --lr-schedule: expected constant or cosine, got 'linear'"), std::string::npos) << r.err;
}

TEST(TrainCli, MixedPrecisionBf16OnTheCpuAndFp16RefusedWithoutCuda) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  ASSERT_EQ(run(train_bin() + " --precision bf16" + common_args(data, dir.file("bf16.prn"))), 0);
  const prn::Bundle b = prn::load_bundle(dir.file("bf16.prn"));
  EXPECT_EQ(b.provenance.at("precision"), "bf16");
  // auto: bf16 where a convolution timed at start runs faster in it, else fp32. The
  // run says which and why, the bundle records it, and the timing leaves the training
  // as it was: the same model as the run given that precision.
  const std::string said = dir.file("auto.txt");
  ASSERT_EQ(run(train_bin() + " --precision auto" + common_args(data, dir.file("auto.prn")) + " > '" + said + "'"), 0);
  const std::string out = prn::test::slurp(said);
  const std::string taken = prn::test::auto_precision_taken(out);
  ASSERT_TRUE(taken == "bf16" || taken == "fp32") << out;
  if (!prn::cpu_has_native_bf16())
    EXPECT_NE(out.find("fp32 (this CPU has no bfloat16 instructions)"), std::string::npos) << out;
  const prn::Bundle a = prn::load_bundle(dir.file("auto.prn"));
  EXPECT_EQ(a.provenance.at("precision"), taken);
  if (taken == "fp32")
    ASSERT_EQ(run(train_bin() + " --precision fp32" + common_args(data, dir.file("fp32.prn"))), 0);
  EXPECT_EQ(a.model_id, prn::load_bundle(dir.file(taken + ".prn")).model_id) << "the timing changed the training";
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(run(train_bin() + " --precision fp16" + common_args(data, dir.file("fp16.prn"))), 2);
    EXPECT_FALSE(std::filesystem::exists(dir.file("fp16.prn")));
  }
}

TEST(TrainCli, WithoutABackboneTheEncoderAdaptsAndAResumedRunKeepsIt) {
  ASSERT_FALSE(train_bin().empty());
  prn::test::TempDir dir;
  const std::string data = make_dataset(dir);
  auto with = [&](const std::string &adapt, const std::string &out) {
    std::string a = common_args(data, dir.file(out));
    return a.replace(a.find(" --adapt-steps 0"), 16, " --adapt-steps " + adapt);
  };
  ASSERT_EQ(run(train_bin() + with("3", "adapted.prn")), 0);
  ASSERT_EQ(run(train_bin() + common_args(data, dir.file("random.prn"))), 0);
  auto adapted = prn::load_bundle(dir.file("adapted.prn"));
  auto random = prn::load_bundle(dir.file("random.prn"));
  EXPECT_EQ(adapted.provenance.at("backbone"), "random (seeded), adapted 3 steps");
  EXPECT_EQ(random.provenance.at("backbone"), "random (seeded)");
  // The same seeded initialisation, then 3 adaptation steps: every encoder conv moved.
  auto pa = adapted.model->encoder()->named_parameters(), pr = random.model->encoder()->named_parameters();
  for (const auto &item : pa) {
    if (item.value().dim() == 4) {
      EXPECT_FALSE(torch::equal(item.value(), pr[item.key()])) << item.key() << " did not adapt";
    }
  }
  // Interrupted after the adaptation and resumed: the checkpoint holds the
  // adapted encoder, the resumed run does not adapt again and ends identical.
  ASSERT_EQ(run(train_bin() + " --stop-after 2" + with("3", "split.prn")), 130);
  ASSERT_EQ(run(train_bin() + " --resume '" + dir.file("split-train/checkpoint.ckpt") + "'" + with("3", "split.prn")), 0);
  EXPECT_EQ(prn::load_bundle(dir.file("split.prn")).model_id, adapted.model_id);
  // The adaptation is the fallback of a random encoder: refused with ImageNet weights.
  const auto r = run_train(dir, "--data '" + data + "' --out x.prn --backbone resnet18.pth --adapt-steps 5");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--adapt-steps 5: the adaptation is the fallback of a random encoder"), std::string::npos)
      << r.err;
}
