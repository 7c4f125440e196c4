// Same seed and thread count -> same output.
#include "prn/model.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"
#include "test_util.h"

namespace {

torch::Tensor run_once(uint64_t seed) {
  auto c = prn::ModelConfig::light();
  c.num_prototypes = 2;
  prn::PrnModel model(c, seed);
  prn::SyntheticTextures gen(c.input_size, seed);
  model->fit_prototypes(gen.normal_images(5), seed);
  auto opt = prn::make_optimizer(*model, 1e-3);
  for (int i = 0; i < 2; ++i) {
    auto b = gen.defective_images(2, prn::DefectKind::Scratch);
    prn::train_step(*model, *opt, b.images, b.masks);
  }
  model->eval();
  return model->anomaly_map(gen.normal_images(2));
}

} // namespace

TEST(Determinism, SameSeedSameOutput) {
  torch::set_num_threads(2);
  auto a = run_once(21);
  auto b = run_once(21);
  EXPECT_LE((a - b).abs().max().item<double>(), 1e-6);
  auto c = run_once(22);
  EXPECT_GT((a - c).abs().max().item<double>(), 1e-4) << "a different seed should give a different model";
}

TEST(Determinism, SyntheticDataIsReproducible) {
  prn::SyntheticTextures a(64, 3), b(64, 3);
  EXPECT_TRUE(torch::equal(a.normal_images(2), b.normal_images(2)));
  auto da = a.defective_images(1, prn::DefectKind::Spot);
  auto db = b.defective_images(1, prn::DefectKind::Spot);
  EXPECT_TRUE(torch::equal(da.images, db.images));
  EXPECT_TRUE(torch::equal(da.masks, db.masks));
  EXPECT_GT(da.masks.sum().item<double>(), 10.0);
}
