// k-means, prototype counts, and the nearest-prototype residual op.
#include "ops/nearest_residual_kernels.h"
#include "prn/ops/nearest_residual.h"
#include "prn/prototypes.h"
#include "test_util.h"

TEST(KMeans, RecoversPlantedClusters) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const int64_t per = 40, D = 500;
  auto centres = at::randn({3, D}, gen) * 10;
  std::vector<torch::Tensor> pts;
  std::vector<int64_t> truth;
  for (int64_t i = 0; i < 3 * per; ++i) {
    const int64_t c = (i * 7) % 3; // interleaved
    pts.push_back(centres[c] + 0.5 * at::randn({D}, gen));
    truth.push_back(c);
  }
  auto x = torch::stack(pts);
  auto r = prn::kmeans(x, 3, 300, 7);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.iterations, 300);
  // Every planted cluster maps to exactly one found cluster.
  auto labels = r.labels.accessor<int64_t, 1>();
  std::map<int64_t, std::set<int64_t>> found_for;
  for (int64_t i = 0; i < x.size(0); ++i)
    found_for[truth[static_cast<size_t>(i)]].insert(labels[i]);
  std::set<int64_t> used;
  for (auto &[t, f] : found_for) {
    EXPECT_EQ(f.size(), 1u) << "planted cluster " << t << " was split";
    used.insert(*f.begin());
  }
  EXPECT_EQ(used.size(), 3u);
  // Centres are the planted means.
  for (int64_t c = 0; c < 3; ++c) {
    const int64_t found = labels[c]; // point c belongs to planted cluster (c*7)%3
    auto err = (r.centers[found] - centres[truth[static_cast<size_t>(c)]]).abs().max().item<double>();
    EXPECT_LT(err, 0.5);
  }
}

TEST(KMeans, DeterministicForASeed) {
  auto x = torch::rand({60, 64}, at::make_generator<at::CPUGeneratorImpl>(3));
  auto a = prn::kmeans(x, 6, 300, 11);
  auto b = prn::kmeans(x, 6, 300, 11);
  EXPECT_TRUE(torch::equal(a.centers, b.centers));
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
  EXPECT_EQ(a.iterations, b.iterations);
}

TEST(KMeans, StopsAtMaxIter) {
  auto x = torch::rand({200, 8}, at::make_generator<at::CPUGeneratorImpl>(3));
  auto r = prn::kmeans(x, 20, 1, 0);
  EXPECT_EQ(r.iterations, 1);
  EXPECT_FALSE(r.converged);
}

TEST(KMeans, DuplicatePointsAndKEqualsN) {
  auto x = torch::ones({5, 4});
  auto r = prn::kmeans(x, 5, 10, 0);
  EXPECT_EQ(r.centers.sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_TRUE(torch::allclose(r.centers, torch::ones({5, 4})));
  EXPECT_NEAR(r.inertia, 0.0, 1e-9);
}

TEST(KMeans, BadArgumentsAreNamed) {
  EXPECT_PRN_ERROR(prn::kmeans(torch::rand({4, 3}), 5, 10, 0), "k = 5", "N = 4");
  EXPECT_PRN_ERROR(prn::kmeans(torch::rand({4}), 1, 10, 0), "(N, D)");
  EXPECT_PRN_ERROR(prn::kmeans(torch::rand({4, 3}, torch::kFloat64), 1, 10, 0), "float32");
  auto bad = torch::rand({4, 3});
  bad[1][1] = std::nanf("");
  EXPECT_PRN_ERROR(prn::kmeans(bad, 2, 10, 0), "non-finite");
}

TEST(Prototypes, CountIsTenPercentAtLeastOne) {
  EXPECT_EQ(prn::prototype_count(200, 0.1, 0), 20);
  EXPECT_EQ(prn::prototype_count(5, 0.1, 0), 1);
  EXPECT_EQ(prn::prototype_count(15, 0.1, 0), 2);
  EXPECT_EQ(prn::prototype_count(200, 0.1, 7), 7);
  EXPECT_EQ(prn::prototype_count(3, 0.1, 7), 3);
}

TEST(NearestResidual, HandMadeTensors) {
  // Two prototypes: all zeros and all twos; image 0 is near zeros, image 1 near twos.
  auto protos = torch::stack({torch::zeros({1, 2, 2}), torch::full({1, 2, 2}, 2.0)});
  auto feats = torch::tensor({0.5f, 0.f, 0.f, 1.0f, 2.f, 3.f, 2.f, 1.5f}).view({2, 1, 2, 2});
  auto [res, idx] = prn::ops::nearest_prototype_residual(feats, protos);
  EXPECT_EQ(idx[0].item<int64_t>(), 0);
  EXPECT_EQ(idx[1].item<int64_t>(), 1);
  auto expected = torch::tensor({0.25f, 0.f, 0.f, 1.0f, 0.f, 1.f, 0.f, 0.25f}).view({2, 1, 2, 2});
  EXPECT_TRUE(torch::equal(res, expected)) << res;
}

TEST(NearestResidual, TiesTakeTheLowestIndex) {
  auto protos = torch::stack({torch::full({1, 1, 1}, -1.0), torch::full({1, 1, 1}, 1.0)});
  auto [res, idx] = prn::ops::nearest_prototype_residual(torch::zeros({1, 1, 1, 1}), protos);
  EXPECT_EQ(idx[0].item<int64_t>(), 0);
  EXPECT_FLOAT_EQ(res.item<float>(), 1.f);
}

TEST(NearestResidual, CpuKernelMatchesTheReference) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto feats = at::randn({5, 16, 8, 8}, gen);
  auto protos = at::randn({7, 16, 8, 8}, gen);
  auto [r1, i1] = prn::ops::nearest_prototype_residual(feats, protos);
  auto [r2, i2] = prn::ops::nearest_prototype_residual_reference(feats, protos);
  EXPECT_TRUE(torch::equal(i1, i2));
  EXPECT_TRUE(torch::allclose(r1, r2, 1e-6, 1e-6));
}

TEST(NearestResidual, ChannelsLastGivesTheSameResultInThatLayout) {
  // Odd sizes: the flat vectors end in a partial chunk and a partial lane group.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  auto feats = at::randn({3, 13, 9, 7}, gen);
  auto protos = at::randn({5, 13, 9, 7}, gen);
  const auto cl = torch::MemoryFormat::ChannelsLast;
  auto [r_ref, i_ref] = prn::ops::nearest_prototype_residual_reference(feats, protos);
  auto [r_cl, i_cl] = prn::ops::nearest_prototype_residual(feats.contiguous(cl), protos.contiguous(cl));
  EXPECT_TRUE(torch::equal(i_cl, i_ref));
  EXPECT_TRUE(r_cl.is_contiguous(cl)) << "the residual keeps the features' layout";
  EXPECT_TRUE(torch::allclose(r_cl, r_ref, 1e-6, 1e-6));
  // mixed layouts: the prototypes are converted to the features' layout
  auto [r_mix, i_mix] = prn::ops::nearest_prototype_residual(feats.contiguous(cl), protos);
  EXPECT_TRUE(torch::equal(i_mix, i_ref));
  EXPECT_TRUE(r_mix.is_contiguous(cl));
  EXPECT_TRUE(torch::allclose(r_mix, r_ref, 1e-6, 1e-6));
  auto [r_nchw, i_nchw] = prn::ops::nearest_prototype_residual(feats, protos.contiguous(cl));
  EXPECT_TRUE(torch::equal(i_nchw, i_ref));
  EXPECT_TRUE(r_nchw.is_contiguous());
  EXPECT_TRUE(torch::allclose(r_nchw, r_ref, 1e-6, 1e-6));
}

TEST(NearestResidual, DistancesMatchDoublePrecisionAndIgnoreTheThreadCount) {
  // 6 x 41 x 41 = 10086 values per image: ten chunks of 1024 and a partial one.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(10);
  auto feats = at::randn({4, 6, 41, 41}, gen);
  auto protos = at::randn({6, 6, 41, 41}, gen);
  auto expected = torch::empty({4, 6}, torch::kFloat64);
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t k = 0; k < 6; ++k)
      expected[b][k] = (feats[b].to(torch::kFloat64) - protos[k].to(torch::kFloat64)).pow(2).sum();
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  auto one = prn::ops::detail::prototype_distances_cpu(feats, protos);
  torch::set_num_threads(2);
  auto two = prn::ops::detail::prototype_distances_cpu(feats, protos);
  torch::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two)) << "the summation order does not depend on the threads";
  EXPECT_TRUE(torch::allclose(one.to(torch::kFloat64), expected, 1e-6, 0.0)) << (one - expected).abs().max();
}

TEST(NearestResidual, GradientIsTwiceTheDifference) {
  auto protos = torch::stack({torch::zeros({1, 2, 2}), torch::full({1, 2, 2}, 3.0)});
  auto feats = torch::tensor({0.5f, 0.f, -1.f, 1.0f}).view({1, 1, 2, 2}).requires_grad_(true);
  auto [res, idx] = prn::ops::nearest_prototype_residual(feats, protos);
  res.sum().backward();
  EXPECT_TRUE(torch::allclose(feats.grad(), 2 * feats.detach()));
}

TEST(NearestResidual, BadInputIsNamed) {
  auto f = torch::zeros({2, 3, 4, 4});
  EXPECT_THROW(prn::ops::nearest_prototype_residual(f, torch::zeros({2, 3, 4, 5})), c10::Error);
  EXPECT_THROW(prn::ops::nearest_prototype_residual(f, torch::zeros({0, 3, 4, 4})), c10::Error);
  EXPECT_THROW(prn::ops::nearest_prototype_residual(f.to(torch::kFloat64), torch::zeros({1, 3, 4, 4})), c10::Error);
  try {
    prn::ops::nearest_prototype_residual(torch::zeros({2, 3, 4}), torch::zeros({1, 3, 4, 4}));
    FAIL() << "expected an error";
  } catch (const c10::Error &e) {
    EXPECT_NE(std::string(e.what()).find("expected features of shape (B, C, H, W)"), std::string::npos);
  }
}
