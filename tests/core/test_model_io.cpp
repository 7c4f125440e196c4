// Saving and loading a whole model, and the errors of bad model files.
#include "prn/model_io.h"
#include "prn/state_dict.h"
#include "prn/synthetic.h"
#include "test_util.h"

#include <torch/serialize.h>

namespace {

prn::PrnModel small_model() {
  auto c = prn::ModelConfig::light();
  c.num_prototypes = 2;
  prn::PrnModel model(c, 4);
  prn::SyntheticTextures gen(c.input_size, 4);
  model->fit_prototypes(gen.normal_images(4), 4);
  return model;
}

std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace

TEST(ModelIO, RoundTripGivesTheSameOutput) {
  prn::test::TempDir dir;
  auto model = small_model();
  model->eval();
  prn::save_model(dir.file("m.prn"), *model, {{"category", "fabric"}});
  auto loaded = prn::load_model(dir.file("m.prn"));
  EXPECT_EQ(loaded.metadata.at("category"), "fabric");
  EXPECT_EQ(loaded.model->config(), model->config());
  EXPECT_EQ(loaded.model->num_prototypes(), 2);
  loaded.model->eval();
  prn::SyntheticTextures gen(128, 9);
  auto x = gen.normal_images(2);
  EXPECT_TRUE(torch::equal(model->anomaly_map(x), loaded.model->anomaly_map(x)));
  // Prototypes live channels-last (the features' layout) in memory, whatever
  // layout the file holds, and come back with the same values.
  for (int s = 0; s < 3; ++s) {
    EXPECT_TRUE(loaded.model->prototypes()[s].is_contiguous(torch::MemoryFormat::ChannelsLast)) << "scale " << s;
    EXPECT_TRUE(torch::equal(loaded.model->prototypes()[s], model->prototypes()[s])) << "scale " << s;
  }
}

TEST(ModelIO, SavingIsAtomic) {
  prn::test::TempDir dir;
  auto model = small_model();
  prn::save_model(dir.file("m.prn"), *model);
  const auto before = read_all(dir.file("m.prn"));
  // A save into a folder that does not exist fails and leaves nothing behind.
  EXPECT_PRN_ERROR(prn::save_model(dir.file("no/such/dir/m.prn"), *model), "no/such/dir/m.prn");
  EXPECT_EQ(read_all(dir.file("m.prn")), before);
  for (auto &e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "m.prn") << "stray file " << e.path();
}

TEST(ModelIO, BadFilesAreNamed) {
  prn::test::TempDir dir;
  EXPECT_PRN_ERROR(prn::load_model(dir.file("missing.prn")), "missing.prn", "cannot open");
  prn::test::write_bytes(dir.file("text.prn"), "not a model");
  EXPECT_PRN_ERROR(prn::load_model(dir.file("text.prn")), "text.prn", "not a prnanomaly model");
  auto model = small_model();
  prn::save_model(dir.file("m.prn"), *model);
  auto bytes = read_all(dir.file("m.prn"));
  prn::test::write_bytes(dir.file("cut.prn"), bytes.substr(0, bytes.size() - 5000));
  EXPECT_PRN_ERROR(prn::load_model(dir.file("cut.prn")), "cut.prn", "corrupt or truncated");
  // A foreign archive: a plain state dict.
  prn::write_state_dict(dir.file("foreign.prn"), {{"w", torch::zeros({2})}});
  EXPECT_PRN_ERROR(prn::load_model(dir.file("foreign.prn")), "foreign.prn", "not a prnanomaly model");
}

TEST(ModelIO, NewerMajorIsRefusedNewerMinorFieldsIgnored) {
  prn::test::TempDir dir;
  auto model = small_model();
  prn::save_model(dir.file("m.prn"), *model);
  auto root = torch::pickle_load([&] {
                auto s = read_all(dir.file("m.prn"));
                return std::vector<char>(s.begin(), s.end());
              }()).toGenericDict();
  auto rewrite = [&](const std::string &name) {
    auto bytes = torch::pickle_save(c10::IValue(root));
    prn::write_file_atomic(dir.file(name), std::string(bytes.begin(), bytes.end()));
  };
  root.insert_or_assign("format_minor", int64_t{7});
  root.insert_or_assign("some_new_field", std::string("ignored"));
  rewrite("minor.prn");
  auto loaded = prn::load_model(dir.file("minor.prn"));
  EXPECT_EQ(loaded.format_minor, 7);
  root.insert_or_assign("format_major", int64_t{2});
  rewrite("major.prn");
  EXPECT_PRN_ERROR(prn::load_model(dir.file("major.prn")), "major.prn", "version 2.7", "reads version 1");
}
