// Dataset readers, seen-anomaly protocol, image/mask loading, SHA-256.
#include "prn/data/dataset.h"

#include "test_util.h"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <set>

namespace fs = std::filesystem;
using namespace prn::data;
using prn::test::TempDir;

namespace {

// Writes an image (creating folders); value v fills it, or a non-empty mask
// square when `square` is set.
void put(const fs::path &p, int v = 128, bool square = false, int size = 8) {
  fs::create_directories(p.parent_path());
  cv::Mat m(size, size, CV_8U, cv::Scalar(square ? 0 : v));
  if (square)
    m(cv::Rect(2, 2, 3, 3)).setTo(255);
  ASSERT_TRUE(cv::imwrite(p.string(), m)) << p;
}

std::string mvtec_fixture(const TempDir &dir) {
  const fs::path c = fs::path(dir.path()) / "bottle";
  for (const char *n : {"000", "001", "002"})
    put(c / "train/good" / (std::string(n) + ".png"));
  for (const char *n : {"000", "001"})
    put(c / "test/good" / (std::string(n) + ".png"));
  for (const char *n : {"000", "001"}) {
    put(c / "test/scratch" / (std::string(n) + ".png"));
    put(c / "ground_truth/scratch" / (std::string(n) + "_mask.png"), 0, true);
  }
  put(c / "test/spot/000.png");
  put(c / "ground_truth/spot/000_mask.png", 0, true);
  return c.string();
}

size_t count_anomalous(const std::vector<Sample> &v) {
  size_t n = 0;
  for (const auto &s : v)
    n += s.anomalous;
  return n;
}

// A listing without files: `per_kind` anomalies of each kind plus 5 normals.
CategoryListing fake_listing(const std::vector<std::pair<std::string, int>> &per_kind) {
  CategoryListing l;
  l.root = "/data/cat";
  for (int i = 0; i < 5; ++i)
    l.test.push_back({"/data/cat/test/good/" + std::to_string(i) + ".png", "", "good", false});
  for (const auto &[kind, n] : per_kind)
    for (int i = 0; i < n; ++i)
      l.test.push_back({"/data/cat/test/" + kind + "/" + std::to_string(i) + ".png",
                        "/data/cat/ground_truth/" + kind + "/" + std::to_string(i) + "_mask.png", kind, true});
  return l;
}

std::map<std::string, int> kinds_of(const std::vector<Sample> &v) {
  std::map<std::string, int> m;
  for (const auto &s : v)
    ++m[s.defect];
  return m;
}

} // namespace

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Dataset, MvtecListing) {
  TempDir dir;
  const auto l = read_category(mvtec_fixture(dir));
  EXPECT_EQ(l.layout, "mvtec");
  EXPECT_EQ(l.category, "bottle");
  ASSERT_EQ(l.train_normal.size(), 3u);
  ASSERT_EQ(l.test.size(), 5u);
  EXPECT_EQ(count_anomalous(l.test), 3u);
  EXPECT_EQ(l.defect_kinds(), (std::vector<std::string>{"scratch", "spot"}));
  EXPECT_TRUE(l.seen.empty());
  for (const auto &s : l.train_normal)
    EXPECT_TRUE(!s.anomalous && s.mask_path.empty() && s.defect == "good");
  for (const auto &s : l.test) {
    if (!s.anomalous) {
      EXPECT_EQ(s.defect, "good");
      EXPECT_TRUE(s.mask_path.empty());
      continue;
    }
    const auto stem = fs::path(s.image_path).stem().string();
    EXPECT_EQ(fs::path(s.mask_path), fs::path(l.root) / "ground_truth" / s.defect / (stem + "_mask.png"));
    EXPECT_EQ(fs::path(s.image_path).parent_path().filename(), s.defect);
  }
  EXPECT_EQ(read_category(l.root, "mvtec").test.size(), 5u);
  EXPECT_EQ(read_category(l.root + "/").category, "bottle");
}

TEST(Dataset, MvtecErrors) {
  TempDir dir;
  const std::string root = mvtec_fixture(dir);
  fs::remove(fs::path(root) / "ground_truth/scratch/001_mask.png");
  EXPECT_PRN_ERROR(read_category(root), "missing mask", "001.png", "001_mask.png");
  put(fs::path(root) / "ground_truth/scratch/001_mask.png", 0, true);
  EXPECT_EQ(read_category(root).test.size(), 5u);
  fs::remove_all(fs::path(root) / "ground_truth/spot");
  EXPECT_PRN_ERROR(read_category(root), "missing folder", "ground_truth/spot");
  fs::remove_all(fs::path(root) / "test");
  EXPECT_PRN_ERROR(read_category(root), "missing folder", "test");
  EXPECT_PRN_ERROR(read_category(dir.file("nowhere")), "does not exist", "nowhere");
  EXPECT_PRN_ERROR(read_category(root, "imagenet"), "unknown dataset layout", "imagenet");
  EXPECT_PRN_ERROR(read_category(root, "btad"), "missing folder", "train/ok");
  fs::create_directories(dir.file("odd/stuff"));
  EXPECT_PRN_ERROR(read_category(dir.file("odd")), "cannot tell the dataset layout", "odd");
}

TEST(Dataset, BtadListing) {
  TempDir dir;
  const fs::path c = fs::path(dir.path()) / "01";
  put(c / "train/ok/0000.bmp");
  put(c / "train/ok/0001.bmp");
  put(c / "test/ok/0000.bmp");
  put(c / "test/ko/0000.bmp");
  put(c / "test/ko/0001.bmp");
  put(c / "ground_truth/ko/0000.png", 0, true);
  put(c / "ground_truth/ko/0001.png", 0, true);
  const auto l = read_category(c.string());
  EXPECT_EQ(l.layout, "btad");
  EXPECT_EQ(l.category, "01");
  EXPECT_EQ(l.train_normal.size(), 2u);
  ASSERT_EQ(l.test.size(), 3u);
  EXPECT_EQ(count_anomalous(l.test), 2u);
  EXPECT_EQ(l.defect_kinds(), std::vector<std::string>{"ko"});
  for (const auto &s : l.test)
    if (s.anomalous)
      EXPECT_EQ(fs::path(s.mask_path).filename().string(), fs::path(s.image_path).stem().string() + ".png");
    else
      EXPECT_EQ(s.defect, "good");
  fs::remove(c / "ground_truth/ko/0001.png");
  EXPECT_PRN_ERROR(read_category(c.string(), "btad"), "missing mask", "0001.bmp");
}

TEST(Dataset, Ksdd2Listing) {
  TempDir dir;
  const fs::path c = fs::path(dir.path()) / "KolektorSDD2";
  put(c / "train/10000.png");
  put(c / "train/10000_GT.png", 0);
  put(c / "train/10001.png");
  put(c / "train/10001_GT.png", 0, true); // defective: not a normal training image
  put(c / "test/20000.png");
  put(c / "test/20000_GT.png", 0);
  put(c / "test/20001.png");
  put(c / "test/20001_GT.png", 0, true);
  const auto l = read_category(c.string());
  EXPECT_EQ(l.layout, "ksdd2");
  ASSERT_EQ(l.train_normal.size(), 1u);
  EXPECT_EQ(fs::path(l.train_normal[0].image_path).filename(), "10000.png");
  ASSERT_EQ(l.test.size(), 2u);
  EXPECT_FALSE(l.test[0].anomalous);
  EXPECT_TRUE(l.test[0].mask_path.empty());
  EXPECT_TRUE(l.test[1].anomalous);
  EXPECT_EQ(l.test[1].defect, "defect");
  EXPECT_EQ(fs::path(l.test[1].mask_path).filename(), "20001_GT.png");
  fs::remove(c / "test/20000_GT.png");
  EXPECT_PRN_ERROR(read_category(c.string(), "ksdd2"), "missing mask", "20000.png", "20000_GT.png");
}

TEST(Dataset, DagmListing) {
  TempDir dir;
  const fs::path c = fs::path(dir.path()) / "Class3";
  put(c / "Train/0001.PNG");
  put(c / "Train/0002.PNG");
  put(c / "Train/Label/0002_label.PNG", 0, true);
  put(c / "Test/0001.PNG");
  put(c / "Test/0002.PNG");
  put(c / "Test/0003.PNG");
  put(c / "Test/Label/0003_label.PNG", 0, true);
  prn::test::write_bytes((c / "Test/Label/Labels.txt").string(),
                         "1\n1\t0\t0001.PNG\t0\n2\t0\t0002.PNG\t0\n3\t1\t0003.PNG\t0\t0003_label.PNG\n");
  const auto l = read_category(c.string());
  EXPECT_EQ(l.layout, "dagm");
  EXPECT_EQ(l.category, "Class3");
  ASSERT_EQ(l.train_normal.size(), 1u);
  EXPECT_EQ(fs::path(l.train_normal[0].image_path).filename(), "0001.PNG");
  ASSERT_EQ(l.test.size(), 3u);
  EXPECT_EQ(count_anomalous(l.test), 1u);
  EXPECT_TRUE(l.test[2].anomalous);
  EXPECT_EQ(fs::path(l.test[2].mask_path).filename(), "0003_label.PNG");
  EXPECT_EQ(l.defect_kinds(), std::vector<std::string>{"defect"});
  // Labels.txt flags an image whose label image is missing.
  fs::remove(c / "Test/Label/0003_label.PNG");
  EXPECT_PRN_ERROR(read_category(c.string()), "missing mask", "0003.PNG", "0003_label.png");
  fs::remove_all(c / "Test");
  EXPECT_PRN_ERROR(read_category(c.string(), "dagm"), "missing folder", "Test");
}

TEST(Dataset, ListingHash) {
  TempDir dir;
  auto l = read_category(mvtec_fixture(dir));
  const std::string h = l.listing_hash();
  ASSERT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  // The sorted relative paths, one a line.
  std::vector<std::string> rel = {"ground_truth/scratch/000_mask.png", "ground_truth/scratch/001_mask.png",
                                  "ground_truth/spot/000_mask.png",    "test/good/000.png",
                                  "test/good/001.png",                 "test/scratch/000.png",
                                  "test/scratch/001.png",              "test/spot/000.png",
                                  "train/good/000.png",                "train/good/001.png",
                                  "train/good/002.png"};
  std::string joined;
  for (const auto &r : rel)
    joined += r + "\n";
  EXPECT_EQ(h, sha256_hex(joined));
  draw_seen_anomalies(l, 2, 7);
  EXPECT_EQ(l.listing_hash(), h); // moving to seen keeps the provenance
  put(fs::path(l.root) / "train/good/003.png");
  EXPECT_NE(read_category(l.root).listing_hash(), h);
}

TEST(Seen, ExactCountsPerKind) {
  auto l = fake_listing({{"crack", 6}, {"hole", 4}, {"stain", 3}});
  const auto before = l.test;
  draw_seen_anomalies(l, 9, 42);
  ASSERT_EQ(l.seen.size(), 9u);
  EXPECT_EQ(kinds_of(l.seen), (std::map<std::string, int>{{"crack", 3}, {"hole", 3}, {"stain", 3}}));
  EXPECT_EQ(l.test.size(), before.size() - 9);
  std::set<std::string> test_paths, all;
  for (const auto &s : l.test)
    test_paths.insert(s.image_path);
  for (const auto &s : l.seen) {
    EXPECT_TRUE(s.anomalous);
    EXPECT_EQ(test_paths.count(s.image_path), 0u) << s.image_path << " still in test";
    all.insert(s.image_path);
  }
  all.insert(test_paths.begin(), test_paths.end());
  EXPECT_EQ(all.size(), before.size());
  EXPECT_EQ(count_anomalous(l.test), 13u - 9u);
}

TEST(Seen, RemainderAndSmallKinds) {
  // 10 over 3 kinds: 3 each, 1 more at random.
  auto l = fake_listing({{"a", 6}, {"b", 4}, {"c", 3}});
  draw_seen_anomalies(l, 10, 1);
  auto k = kinds_of(l.seen);
  EXPECT_EQ(l.seen.size(), 10u);
  for (const auto &kind : {"a", "b", "c"})
    EXPECT_GE(k[kind], 3) << kind;
  // A kind with fewer than floor(n / kinds) gives all it has; the rest comes from the others.
  auto s = fake_listing({{"big", 10}, {"tiny", 1}});
  draw_seen_anomalies(s, 6, 3);
  EXPECT_EQ(kinds_of(s.seen), (std::map<std::string, int>{{"big", 5}, {"tiny", 1}}));
  EXPECT_EQ(s.defect_kinds(), std::vector<std::string>{"big"});
}

TEST(Seen, DeterministicAndSeeded) {
  auto paths = [](uint64_t seed) {
    auto l = fake_listing({{"a", 8}, {"b", 8}, {"c", 8}});
    draw_seen_anomalies(l, 10, seed);
    std::vector<std::string> p;
    for (const auto &s : l.seen)
      p.push_back(s.image_path);
    return p;
  };
  EXPECT_EQ(paths(5), paths(5));
  EXPECT_NE(paths(5), paths(6));
  std::set<std::vector<std::string>> distinct;
  for (uint64_t seed = 0; seed < 8; ++seed)
    distinct.insert(paths(seed));
  EXPECT_GE(distinct.size(), 6u);
}

TEST(Seen, Errors) {
  auto l = fake_listing({{"a", 3}, {"b", 2}});
  EXPECT_PRN_ERROR(draw_seen_anomalies(l, 6, 0), "6 requested", "only 5");
  EXPECT_PRN_ERROR(draw_seen_anomalies(l, -1, 0), "n >= 0");
  draw_seen_anomalies(l, 0, 0);
  EXPECT_TRUE(l.seen.empty());
  EXPECT_EQ(l.test.size(), 10u);
}

TEST(Seen, Folder) {
  TempDir dir;
  auto l = read_category(mvtec_fixture(dir));
  const fs::path f = fs::path(dir.path()) / "seen";
  put(f / "a.png");
  put(f / "b.png");
  put(f / "masks/a_mask.png", 0, true);
  put(f / "masks/b.png", 0, true);
  use_seen_folder(l, f.string());
  ASSERT_EQ(l.seen.size(), 2u);
  EXPECT_EQ(fs::path(l.seen[0].mask_path).filename(), "a_mask.png");
  EXPECT_EQ(fs::path(l.seen[1].mask_path).filename(), "b.png");
  EXPECT_TRUE(l.seen[0].anomalous);
  EXPECT_EQ(l.test.size(), 5u);
  // Test images given as seen anomalies leave the test split.
  const fs::path scratch = fs::path(l.root) / "test/scratch";
  put(scratch / "masks/000_mask.png", 0, true);
  put(scratch / "masks/001_mask.png", 0, true);
  use_seen_folder(l, scratch.string() + "/../scratch");
  EXPECT_EQ(l.seen.size(), 2u);
  EXPECT_EQ(l.test.size(), 3u);
  EXPECT_EQ(count_anomalous(l.test), 1u);
  put(f / "c.png");
  EXPECT_PRN_ERROR(use_seen_folder(l, f.string()), "missing mask", "c.png", "c_mask.png");
  EXPECT_PRN_ERROR(use_seen_folder(l, dir.file("none")), "missing folder", "none");
}

TEST(ImageIo, GreyExpandedResizedInRange) {
  TempDir dir;
  cv::Mat g(30, 20, CV_8U);
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 20; ++x)
      g.at<uint8_t>(y, x) = static_cast<uint8_t>(x * 12);
  ASSERT_TRUE(cv::imwrite(dir.file("g.png"), g));
  auto t = load_image(dir.file("g.png"), 16);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 16, 16}));
  EXPECT_EQ(t.dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(t[0], t[1]) && torch::equal(t[1], t[2]));
  EXPECT_GE(t.min().item<float>(), 0.0f);
  EXPECT_LE(t.max().item<float>(), 1.0f);
  EXPECT_GT(t[0][0][15].item<float>(), t[0][0][0].item<float>() + 0.5f); // the gradient survives
  auto full = load_image(dir.file("g.png"), 0);
  ASSERT_EQ(full.sizes(), (std::vector<int64_t>{3, 30, 20}));
  EXPECT_NEAR(full[1][5][10].item<float>(), 120.0f / 255.0f, 1e-6);
  // Colour: OpenCV's BGR becomes RGB; 16-bit scales to [0, 1].
  cv::Mat c(4, 4, CV_8UC3, cv::Scalar(255, 0, 0)); // blue
  ASSERT_TRUE(cv::imwrite(dir.file("c.png"), c));
  auto rgb = load_image(dir.file("c.png"), 0);
  EXPECT_FLOAT_EQ(rgb[2].mean().item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(rgb[0].mean().item<float>(), 0.0f);
  cv::Mat w16(4, 4, CV_16U, cv::Scalar(65535));
  ASSERT_TRUE(cv::imwrite(dir.file("w16.png"), w16));
  EXPECT_FLOAT_EQ(load_image(dir.file("w16.png"), 8).min().item<float>(), 1.0f);
  EXPECT_PRN_ERROR(load_image(dir.file("none.png"), 8), "does not exist", "none.png");
  prn::test::write_bytes(dir.file("junk.png"), "not a png");
  EXPECT_PRN_ERROR(load_image(dir.file("junk.png"), 8), "cannot decode", "junk.png");
}

TEST(ImageIo, MaskBinarisedNearest) {
  TempDir dir;
  cv::Mat m(4, 4, CV_8U, cv::Scalar(0));
  m(cv::Rect(0, 0, 2, 4)).setTo(1); // left half: tiny non-zero values count
  m.at<uint8_t>(0, 3) = 128;
  ASSERT_TRUE(cv::imwrite(dir.file("m.png"), m));
  auto t = load_mask(dir.file("m.png"), 8);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{1, 8, 8}));
  EXPECT_TRUE(torch::equal(t, (t > 0.5f).to(torch::kFloat32))); // only 0 and 1
  EXPECT_EQ(t[0].narrow(1, 0, 4).sum().item<float>(), 32.0f);
  EXPECT_EQ(t[0].narrow(1, 4, 4).sum().item<float>(), 4.0f); // the 128 pixel, 2x2 after nearest x2
  EXPECT_EQ(t[0][0][7].item<float>(), 1.0f);
  EXPECT_EQ(t[0][7][7].item<float>(), 0.0f);
  auto z = load_mask("", 5);
  EXPECT_TRUE(torch::equal(z, torch::zeros({1, 5, 5})));
  cv::Mat colour(3, 3, CV_8UC3, cv::Scalar(0, 0, 0));
  colour.at<cv::Vec3b>(1, 1) = cv::Vec3b(0, 0, 200);
  ASSERT_TRUE(cv::imwrite(dir.file("colour.png"), colour));
  EXPECT_EQ(load_mask(dir.file("colour.png"), 0).sum().item<float>(), 1.0f);
  EXPECT_PRN_ERROR(load_mask(dir.file("none.png"), 8), "does not exist");
}
