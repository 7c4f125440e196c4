// Helpers shared by the train suite's tests: the prn-train binary on a tiny
// MVTec-layout dataset, a small training pool, reading a file whole.
#pragma once

#include "test_util.h"

#include "train/batcher.h"

#include "prn/synthetic.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace prn::test {

// 6 normal images and 2 seen spot anomalies of 64 px.
inline prn::train::TrainingPool small_pool() {
  SyntheticTextures gen(64, 3);
  prn::train::TrainingPool pool;
  pool.normals = gen.normal_images(6);
  auto seen = gen.defective_images(2, DefectKind::Spot);
  pool.seen_images = seen.images;
  pool.seen_masks = seen.masks;
  return pool;
}

inline std::string slurp(const std::string &path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline cv::Mat to_png(const torch::Tensor &chw) {
  auto t = (chw.clamp(0, 1) * 255).round().to(torch::kUInt8).permute({1, 2, 0}).flip(2).contiguous();
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), t.size(2) == 3 ? CV_8UC3 : CV_8UC1,
                 t.data_ptr<uint8_t>())
      .clone();
}

// 6 normal training images, 2 normal and 3 spot test images with masks, 64 px.
inline std::string make_dataset(const TempDir &dir) {
  namespace fs = std::filesystem;
  const std::string root = dir.file("tiny");
  for (const char *d : {"train/good", "test/good", "test/spot", "ground_truth/spot"})
    fs::create_directories(fs::path(root) / d);
  SyntheticTextures gen(64, 4);
  auto normals = gen.normal_images(8);
  for (int i = 0; i < 6; ++i)
    cv::imwrite(root + "/train/good/" + std::to_string(i) + ".png", to_png(normals[i]));
  for (int i = 6; i < 8; ++i)
    cv::imwrite(root + "/test/good/" + std::to_string(i) + ".png", to_png(normals[i]));
  auto bad = gen.defective_images(3, DefectKind::Spot);
  for (int i = 0; i < 3; ++i) {
    cv::imwrite(root + "/test/spot/00" + std::to_string(i) + ".png", to_png(bad.images[i]));
    cv::imwrite(root + "/ground_truth/spot/00" + std::to_string(i) + "_mask.png", to_png(bad.masks[i] * 255 / 255));
  }
  return root;
}

inline std::string train_bin() {
  const char *b = std::getenv("PRN_TRAIN_BIN");
  return b ? b : "";
}

// Exit status of a shell command (-1 if it did not exit).
inline int run(const std::string &cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A prn-train run whose stdout is discarded (`env`: variable assignments before
// the command): its exit status and its stderr.
struct TrainRun {
  int status;
  std::string err;
};
inline TrainRun run_train(const TempDir &dir, const std::string &args, const std::string &env = "") {
  const std::string err = dir.file("stderr.txt");
  const int status = run(env + " " + train_bin() + " " + args + " > /dev/null 2> '" + err + "'");
  return {status, slurp(err)};
}

// The precision a `--precision auto` run says it took: the 4 characters after
// "precision auto: " in its output ("bf16" or "fp32"), "" when it says none.
inline std::string auto_precision_taken(const std::string &output) {
  const size_t at = output.find("precision auto: ");
  return at == std::string::npos ? "" : output.substr(at + 16, 4);
}

// Waits (polling every 100 ms, at most `seconds`) until a training run has logged
// its first step to `log` (metrics.jsonl), so an interrupt lands mid-training.
inline void wait_for_first_logged_step(const std::string &log, int seconds) {
  for (int i = 0; i < 10 * seconds && (!std::filesystem::exists(log) || std::filesystem::file_size(log) == 0); ++i)
    usleep(100 * 1000);
}

} // namespace prn::test
