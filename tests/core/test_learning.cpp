// Learning together: a short training of the light configuration on generated
// textures with one planted defect kind localises that kind on held-out images.
#include "prn/metrics.h"
#include "prn/model.h"
#include "prn/synthetic.h"
#include "prn/train_step.h"
#include "test_util.h"

TEST(Learning, LocalisesThePlantedDefectKindOnHeldOutImages) {
  torch::set_num_threads(2);
  const uint64_t seed = 2024;
  auto config = prn::ModelConfig::light();
  prn::PrnModel model(config, seed);
  prn::SyntheticTextures train_data(config.input_size, seed);
  model->fit_prototypes(train_data.normal_images(20), seed); // K = 2 (10%)
  ASSERT_EQ(model->num_prototypes(), 2);

  auto opt = prn::make_optimizer(*model, /*lr=*/1e-3);
  const int steps = 150;
  double first = 0, last = 0;
  for (int step = 0; step < steps; ++step) {
    auto normal = train_data.normal_images(4);
    auto bad = train_data.defective_images(4, prn::DefectKind::Scratch);
    auto images = torch::cat({normal, bad.images});
    auto masks = torch::cat({torch::zeros({4, 1, config.input_size, config.input_size}), bad.masks});
    auto l = prn::train_step(*model, *opt, images, masks);
    if (step == 0)
      first = l.total;
    last = l.total;
  }
  EXPECT_LT(last, first);
  // Precise BatchNorm on training-like batches before evaluating.
  prn::recalibrate_batchnorm(
      *model, [&] { return torch::cat({train_data.normal_images(4), train_data.defective_images(4, prn::DefectKind::Scratch).images}); },
      20);

  prn::SyntheticTextures held_out(config.input_size, seed + 1000);
  auto test = held_out.defective_images(12, prn::DefectKind::Scratch);
  auto normal = held_out.normal_images(4);
  auto images = torch::cat({test.images, normal});
  auto masks = torch::cat({test.masks, torch::zeros({4, 1, config.input_size, config.input_size})});
  auto maps = model->anomaly_map(images);
  const double pixel_auroc = prn::auroc(maps, masks);
  std::cout << "[learning] loss " << first << " -> " << last << ", held-out Pixel-AUROC " << pixel_auroc << "\n";
  EXPECT_GE(pixel_auroc, 0.95);
}
