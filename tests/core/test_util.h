// Shared helpers of the core tests.
#pragma once

#include "prn/error.h"
#include "prn/model.h"
#include "prn/synthetic.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace prn::test {

// A light-configuration model with `prototypes` prototypes per scale fitted on
// `normals` synthetic normal images, weights and images all from `seed`.
inline prn::PrnModel fitted_light_model(uint64_t seed, int64_t prototypes = 2, int64_t normals = 4) {
  auto c = prn::ModelConfig::light();
  c.num_prototypes = prototypes;
  prn::PrnModel model(c, seed);
  prn::SyntheticTextures gen(c.input_size, seed);
  model->fit_prototypes(gen.normal_images(normals), seed);
  return model;
}

// Runs statement, expects prn::Error whose message contains every given piece.
#define EXPECT_PRN_ERROR(statement, ...)                                                                               \
  do {                                                                                                                 \
    bool thrown_ = false;                                                                                              \
    try {                                                                                                              \
      statement;                                                                                                       \
    } catch (const ::prn::Error &e_) {                                                                                 \
      thrown_ = true;                                                                                                  \
      const std::string msg_ = e_.what();                                                                              \
      for (const std::string &piece_ : {__VA_ARGS__})                                                                  \
        EXPECT_NE(msg_.find(piece_), std::string::npos) << "message lacks '" << piece_ << "': " << msg_;            \
    }                                                                                                                  \
    EXPECT_TRUE(thrown_) << "expected prn::Error from " #statement;                                                   \
  } while (0)

// Runs statement, expects a c10::Error (an op's TORCH_CHECK) whose message holds every piece.
#define EXPECT_TORCH_ERROR(statement, ...)                                                                             \
  do {                                                                                                                 \
    bool thrown_ = false;                                                                                              \
    try {                                                                                                              \
      statement;                                                                                                       \
    } catch (const c10::Error &e_) {                                                                                   \
      thrown_ = true;                                                                                                  \
      const std::string msg_ = e_.what_without_backtrace();                                                            \
      for (const std::string &piece_ : {__VA_ARGS__})                                                                  \
        EXPECT_NE(msg_.find(piece_), std::string::npos) << "message lacks '" << piece_ << "': " << msg_;            \
    }                                                                                                                  \
    EXPECT_TRUE(thrown_) << "expected c10::Error from " #statement;                                                   \
  } while (0)

// A fresh temporary folder, removed with the object.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "prn-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string &name) const { return (std::filesystem::path(path_) / name).string(); }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

// Reads the fixtures' .bin format: int32 ndim, int64 dims, float32 data.
inline torch::Tensor read_bin(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot open " + path);
  int32_t ndim = 0;
  in.read(reinterpret_cast<char *>(&ndim), sizeof ndim);
  std::vector<int64_t> dims(static_cast<size_t>(ndim));
  in.read(reinterpret_cast<char *>(dims.data()), static_cast<std::streamsize>(dims.size() * sizeof(int64_t)));
  auto t = torch::empty(dims, torch::kFloat32);
  in.read(reinterpret_cast<char *>(t.data_ptr<float>()), static_cast<std::streamsize>(t.numel() * sizeof(float)));
  if (!in)
    throw std::runtime_error("truncated " + path);
  return t;
}

inline void write_bytes(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

} // namespace prn::test
