// prn-train's parts in process: deterministic batches, the foreground, the
// batch queue, checkpoints (the CLI itself: test_train.cpp).
#include "cli_fixture.h"
#include "test_util.h"
#include "train/batcher.h"
#include "train/checkpoint.h"
#include "train/foreground.h"

#include "prn/synthetic.h"
#include "prn/train_step.h"

#include <ATen/CPUGeneratorImpl.h>

using prn::test::small_pool;

TEST(TrainBatches, APureFunctionOfSeedAndStep) {
  auto pool = small_pool();
  prn::train::BatchRecipe recipe{4, 2, 2};
  auto a = prn::train::make_batch(pool, recipe, 5, 7);
  auto b = prn::train::make_batch(pool, recipe, 5, 7);
  EXPECT_EQ(a.images.sizes(), (std::vector<int64_t>{8, 3, 64, 64}));
  EXPECT_EQ(a.masks.sizes(), (std::vector<int64_t>{8, 1, 64, 64}));
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.masks, b.masks));
  EXPECT_FALSE(torch::equal(a.images, prn::train::make_batch(pool, recipe, 5, 8).images));
  // Normal images carry empty masks; anomalies non-empty ones.
  EXPECT_EQ(a.masks.slice(0, 0, 4).sum().item<double>(), 0.0);
  for (int64_t i = 4; i < 8; ++i)
    EXPECT_GT(a.masks[i].sum().item<double>(), 0.0) << "anomaly " << i << " has an empty mask";
  using K = prn::train::SampleKind;
  ASSERT_EQ(a.kinds.size(), 8u);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(a.kinds[i], i < 4 ? K::Normal : i < 6 ? K::Extended : K::SimulatedNormal) << "sample " << i;
}

TEST(TrainBatches, WithoutSeenAnomaliesAllAnomaliesAreSimulated) {
  auto pool = small_pool();
  pool.seen_images = torch::Tensor();
  pool.seen_masks = torch::Tensor();
  auto b = prn::train::make_batch(pool, {4, 2, 2}, 1, 0);
  EXPECT_EQ(b.images.size(0), 8);
  // The two extended places go to simulated anomalies: 4 normal, then 4 simulated,
  // each with a non-empty mask.
  using K = prn::train::SampleKind;
  ASSERT_EQ(b.kinds.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const bool simulated = b.kinds[i] == K::SimulatedTexture || b.kinds[i] == K::SimulatedNormal;
    EXPECT_EQ(simulated, i >= 4) << "sample " << i << ": " << prn::train::sample_kind_name(b.kinds[i]);
    EXPECT_EQ(b.masks[static_cast<int64_t>(i)].sum().item<double>() > 0, i >= 4) << "sample " << i;
  }
}

TEST(TrainBatches, NormalFillChoosesTheSimulatedAnomaliesSource) {
  // Two pools that differ only in their textures (flat colours no normal image
  // has): a sample filled from a normal image is the same in both, a sample
  // filled from a texture differs.
  auto pool_a = small_pool(), pool_b = small_pool();
  for (int i = 0; i < 3; ++i) {
    pool_a.textures.push_back(torch::full({3, 32, 32}, 0.1 + 0.1 * i));
    pool_b.textures.push_back(torch::full({3, 32, 32}, 0.9 - 0.1 * i));
  }
  using K = prn::train::SampleKind;
  prn::train::BatchRecipe recipe{1, 0, 8};
  auto both = [&](double share) {
    recipe.normal_fill = share;
    return std::make_pair(prn::train::make_batch(pool_a, recipe, 3, 2), prn::train::make_batch(pool_b, recipe, 3, 2));
  };
  // normal_fill 1: every fill is a normal image
  auto [a1, b1] = both(1.0);
  EXPECT_TRUE(torch::equal(a1.images, b1.images));
  for (size_t i = 1; i < 9; ++i)
    EXPECT_EQ(a1.kinds[i], K::SimulatedNormal);
  // normal_fill 0: every fill is a texture
  auto [a0, b0] = both(0.0);
  EXPECT_TRUE(torch::equal(a0.masks, b0.masks)); // the same masks, other fills
  for (int64_t i = 1; i < 9; ++i) {
    EXPECT_FALSE(torch::equal(a0.images[i], b0.images[i])) << "sample " << i;
    EXPECT_EQ(a0.kinds[static_cast<size_t>(i)], K::SimulatedTexture);
  }
  // a share in between mixes both sources within one batch, and says which
  auto [am, bm] = both(0.5);
  int from_normals = 0;
  for (int64_t i = 1; i < 9; ++i) {
    const bool same = torch::equal(am.images[i], bm.images[i]);
    from_normals += same;
    EXPECT_EQ(am.kinds[static_cast<size_t>(i)], same ? K::SimulatedNormal : K::SimulatedTexture) << "sample " << i;
  }
  EXPECT_GT(from_normals, 0);
  EXPECT_LT(from_normals, 8);
}

TEST(TrainForeground, OtsuFindsTheObjectOnItsSide) {
  // A bright disc on a dark, slightly noisy background, and the reverse.
  const int64_t S = 64;
  auto yy = torch::arange(S).view({S, 1}).expand({S, S}), xx = torch::arange(S).view({1, S}).expand({S, S});
  auto disc = ((yy - 30).pow(2) + (xx - 34).pow(2) < 15 * 15).to(torch::kFloat32);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  auto noise = 0.05 * torch::rand({3, S, S}, gen);
  auto bright = (0.2 + 0.6 * disc.unsqueeze(0) + noise).unsqueeze(0);
  auto dark = (0.8 - 0.6 * disc.unsqueeze(0) + noise).unsqueeze(0);
  const auto images = torch::cat({bright, dark});
  using F = prn::train::Foreground;
  auto fb = prn::train::otsu_foreground(images, F::Bright), fd = prn::train::otsu_foreground(images, F::Dark);
  ASSERT_EQ(fb.sizes(), (std::vector<int64_t>{2, 1, S, S}));
  auto iou = [](const torch::Tensor &a, const torch::Tensor &b) {
    return ((a * b).sum() / ((a + b) > 0).sum()).item<double>();
  };
  EXPECT_GT(iou(fb[0][0], disc), 0.95); // the bright object
  EXPECT_GT(iou(fd[1][0], disc), 0.95); // the dark object
  EXPECT_LT(iou(fb[1][0], disc), 0.05); // the wrong side is the background
  EXPECT_EQ(prn::train::foreground_from_name("dark"), F::Dark);
  EXPECT_PRN_ERROR(prn::train::foreground_from_name("auto"), "--foreground", "none, bright or dark", "'auto'");
  EXPECT_PRN_ERROR(prn::train::otsu_foreground(images, F::None), "expected bright or dark");
}

TEST(TrainBatches, ExtendedAnomaliesStayOnTheForeground) {
  auto pool = small_pool();
  const int64_t S = pool.normals.size(2);
  pool.foregrounds = torch::zeros({pool.normals.size(0), 1, S, S});
  pool.foregrounds.narrow(3, 0, S / 2).fill_(1.0); // the left half of every image
  prn::train::BatchRecipe recipe{1, 6, 0};
  int64_t pasted = 0;
  for (int64_t step = 0; step < 4; ++step) {
    const auto b = prn::train::make_batch(pool, recipe, 11, step);
    for (int64_t i = 1; i < 7; ++i) {
      const auto m = b.masks[i][0];
      EXPECT_EQ(m.narrow(1, S / 2, S - S / 2).sum().item<double>(), 0.0) << "step " << step << " sample " << i;
      pasted += m.sum().item<double>() > 0;
    }
  }
  EXPECT_GT(pasted, 12); // most of the 24 found room on the left half
}

TEST(TrainBatches, QueueGivesTheSameBatchesInOrder) {
  auto pool = small_pool();
  prn::train::BatchRecipe recipe{2, 1, 1};
  prn::train::BatchQueue queue(pool, recipe, 9, 3, /*workers=*/3, /*depth=*/4);
  for (int64_t step = 3; step < 9; ++step) {
    auto b = queue.next();
    EXPECT_EQ(b.step, step);
    EXPECT_TRUE(torch::equal(b.images, prn::train::make_batch(pool, recipe, 9, step).images)) << step;
  }
}

TEST(TrainCheckpoint, RoundTripRestoresModelAndOptimiser) {
  prn::test::TempDir dir;
  auto c = prn::ModelConfig::light();
  c.num_prototypes = 1;
  prn::SyntheticTextures gen(c.input_size, 2);
  prn::PrnModel a(c, 1);
  a->fit_prototypes(gen.normal_images(2), 1);
  auto opt_a = prn::make_optimizer(*a, 1e-3);
  auto batch = gen.defective_images(2, prn::DefectKind::Hole);
  prn::train_step(*a, *opt_a, batch.images, batch.masks);
  prn::train::save_checkpoint(dir.file("c.ckpt"), *a, *opt_a, {1, {{"seed", "1"}}});

  prn::PrnModel b(c, 99);
  auto opt_b = prn::make_optimizer(*b, 1e-3);
  auto info = prn::train::load_checkpoint(dir.file("c.ckpt"), *b, *opt_b, {{"seed", "1"}});
  EXPECT_EQ(info.step, 1);
  EXPECT_EQ(b->num_prototypes(), 1);
  // One more identical step on both gives identical weights (optimiser state restored).
  prn::train_step(*a, *opt_a, batch.images, batch.masks);
  prn::train_step(*b, *opt_b, batch.images, batch.masks);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto &item : pa)
    EXPECT_TRUE(torch::allclose(item.value(), pb[item.key()], 1e-6, 1e-7)) << item.key();
  EXPECT_PRN_ERROR(prn::train::load_checkpoint(dir.file("c.ckpt"), *b, *opt_b, {{"seed", "2"}}), "c.ckpt",
                   "another run", "seed");
  prn::test::write_bytes(dir.file("bad.ckpt"), "garbage");
  EXPECT_PRN_ERROR(prn::train::load_checkpoint(dir.file("bad.ckpt"), *b, *opt_b, {}), "bad.ckpt");
}
