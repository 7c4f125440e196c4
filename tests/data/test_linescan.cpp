// GIMP pattern reader, system textures and the line-scan dataset generator.
#include "prn/data/dataset.h"
#include "prn/data/linescan.h"

#include "test_util.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

namespace fs = std::filesystem;
using namespace prn::data;
using prn::test::TempDir;

namespace {

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A .pat file: header, name, pixels.
std::string pattern_bytes(uint32_t version, uint32_t w, uint32_t h, uint32_t bpp, const std::string &pixels,
                          const std::string &magic = "GPAT") {
  const std::string name = "test pattern";
  return be32(static_cast<uint32_t>(24 + name.size() + 1)) + be32(version) + be32(w) + be32(h) + be32(bpp) + magic +
         name + std::string(1, '\0') + pixels;
}

std::string read_all(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every file under root (relative path -> bytes).
std::map<std::string, std::string> tree(const fs::path &root) {
  std::map<std::string, std::string> out;
  for (const auto &e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file())
      out[fs::relative(e.path(), root).string()] = read_all(e.path());
  return out;
}

// A seamless-ish test texture: a smooth grey grain, written as PNG.
std::string make_texture(const TempDir &dir) {
  cv::Mat t(64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const int v = 110 + static_cast<int>(40 * std::sin(x * 0.39) * std::cos(y * 0.2) + (x * 7 + y * 13) % 17);
      t.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(v), static_cast<uint8_t>(v + 5), static_cast<uint8_t>(v + 10));
    }
  const std::string path = dir.file("texture.png");
  EXPECT_TRUE(cv::imwrite(path, t));
  return path;
}

LineScanOptions small_options(const std::string &texture) {
  LineScanOptions o;
  o.texture = texture;
  o.width = 160;
  o.lines = 640;
  o.tile = 64;
  o.train_normal = 6;
  o.test_normal = 4;
  o.test_per_kind = 2;
  o.seed = 11;
  return o;
}

} // namespace

TEST(GimpPattern, EveryBytesPerPixel) {
  TempDir dir;
  // 3 x 2 pixels; byte value = 10 * pixel index + channel.
  for (uint32_t bpp = 1; bpp <= 4; ++bpp)
    for (uint32_t version : {1u, 2u}) {
      std::string px;
      for (int i = 0; i < 6; ++i)
        for (uint32_t c = 0; c < bpp; ++c)
          px.push_back(static_cast<char>(10 * i + static_cast<int>(c)));
      const std::string path = dir.file(std::string("p") + std::to_string(bpp) + "v" + std::to_string(version) + ".pat");
      prn::test::write_bytes(path, pattern_bytes(version, 3, 2, bpp, px));
      auto t = read_gimp_pattern(path);
      ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 2, 3})) << "bpp " << bpp;
      for (int i = 0; i < 6; ++i)
        for (int c = 0; c < 3; ++c) {
          const int expect = bpp <= 2 ? 10 * i : 10 * i + c; // grey replicated; alpha dropped
          EXPECT_NEAR(t[c][i / 3][i % 3].item<float>(), expect / 255.0f, 1e-6) << "bpp " << bpp << " px " << i;
        }
    }
}

TEST(GimpPattern, Errors) {
  TempDir dir;
  const std::string px(12, '\x40');
  auto write = [&](const std::string &name, const std::string &bytes) {
    prn::test::write_bytes(dir.file(name), bytes);
    return dir.file(name);
  };
  EXPECT_PRN_ERROR(read_gimp_pattern(write("magic.pat", pattern_bytes(1, 2, 2, 3, px, "GIMP"))), "bad magic",
                   "magic.pat");
  EXPECT_PRN_ERROR(read_gimp_pattern(write("bpp.pat", pattern_bytes(1, 2, 2, 5, px + px))), "bytes per pixel 5");
  EXPECT_PRN_ERROR(read_gimp_pattern(write("ver.pat", pattern_bytes(3, 2, 2, 3, px))), "version 3");
  EXPECT_PRN_ERROR(read_gimp_pattern(write("short.pat", pattern_bytes(1, 2, 2, 3, px.substr(0, 7)))), "truncated",
                   "short.pat");
  EXPECT_PRN_ERROR(read_gimp_pattern(write("tiny.pat", "GPAT")), "too short");
  EXPECT_PRN_ERROR(read_gimp_pattern(dir.file("none.pat")), "cannot open", "none.pat");
}

// A texture folder for simulated anomalies: PNGs and .pat files, in nested
// folders, sorted by path, each resized to size x size; other files ignored.
TEST(GimpPattern, TextureFolderLoadsImagesAndPatternsResized) {
  TempDir dir;
  fs::create_directories(dir.file("a/b"));
  std::string px; // 8 x 8 uniform grey 0x40
  px.assign(64, '\x40');
  prn::test::write_bytes(dir.file("a/b/grey.pat"), pattern_bytes(2, 8, 8, 1, px));
  cv::Mat red(10, 20, CV_8UC3, cv::Scalar(0, 0, 255)); // BGR
  ASSERT_TRUE(cv::imwrite(dir.file("a/red.png"), red));
  prn::test::write_bytes(dir.file("notes.txt"), "not a texture");
  const auto t = load_texture_folder(dir.path(), 16);
  ASSERT_EQ(t.size(), 2u); // a/b/grey.pat, a/red.png
  for (const auto &x : t)
    EXPECT_EQ(x.sizes(), (std::vector<int64_t>{3, 16, 16}));
  EXPECT_NEAR(t[0].min().item<float>(), 0x40 / 255.0f, 1e-5);
  EXPECT_NEAR(t[0].max().item<float>(), 0x40 / 255.0f, 1e-5);
  EXPECT_NEAR(t[1][0].mean().item<float>(), 1.0f, 1e-5); // red
  EXPECT_NEAR(t[1][2].mean().item<float>(), 0.0f, 1e-5);

  TempDir empty;
  EXPECT_PRN_ERROR(load_texture_folder(empty.path(), 16), "holds no texture", empty.path().c_str());
  EXPECT_PRN_ERROR(load_texture_folder(dir.file("missing"), 16), "is not a folder", "missing");
}

TEST(GimpPattern, DebianFiles) {
  const std::string burlap = "/usr/share/gimp/2.0/patterns/Fabric/burlap.pat";
  const std::string paper = "/usr/share/gimp/2.0/patterns/Paper/paper.pat";
  if (!fs::exists("/usr/share/gimp"))
    GTEST_SKIP() << "/usr/share/gimp is missing (scripts/setup.sh installs gimp-data)";
  auto t = read_gimp_pattern(burlap);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 96, 96}));
  EXPECT_GE(t.min().item<float>(), 0.0f);
  EXPECT_LE(t.max().item<float>(), 1.0f);
  EXPECT_GT(t.std().item<float>(), 0.02f); // a texture, not a flat fill
  auto g = read_gimp_pattern(paper); // 1 byte per pixel
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{3, 100, 100}));
  EXPECT_TRUE(torch::equal(g[0], g[2]));
  const auto all = find_system_textures();
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_NE(std::find(all.begin(), all.end(), burlap), all.end());
  EXPECT_GT(all.size(), 100u);
  for (const auto &p : all)
    EXPECT_EQ(load_texture(p).size(0), 3) << p;
}

TEST(LineScan, TextureWebAndCamera) {
  TempDir dir;
  const std::string tex = make_texture(dir);
  auto web = render_texture_web(tex, 300, 200, 64, 4);
  ASSERT_EQ(web.sizes(), (std::vector<int64_t>{3, 300, 200}));
  EXPECT_GE(web.min().item<float>(), 0.0f);
  EXPECT_GT(web.std().item<float>(), 0.02f);
  EXPECT_TRUE(torch::equal(web, render_texture_web(tex, 300, 200, 64, 4)));
  EXPECT_FALSE(torch::equal(web, render_texture_web(tex, 300, 200, 64, 5)));
  auto shot = line_camera(web.clamp(0, 1), 4);
  ASSERT_EQ(shot.sizes(), web.sizes());
  EXPECT_EQ(shot.dtype(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(shot, line_camera(web.clamp(0, 1), 4)));
  // Sensor noise: a flat web comes out neither flat nor far from its value.
  auto flat = line_camera(torch::full({3, 200, 200}, 0.5f), 1).to(torch::kFloat32);
  EXPECT_GT(flat.std().item<float>(), 1.5f);
  EXPECT_NEAR(flat.mean().item<float>(), 0.5f * 255 * 0.97f, 6.0f);
  EXPECT_PRN_ERROR(line_camera(torch::zeros({200, 200}), 0), "line_camera", "(3, lines, width)");
}

TEST(LineScan, LayoutCountsMasks) {
  TempDir dir;
  const auto o = small_options(make_texture(dir));
  const std::string out = dir.file("out");
  const std::string cat = write_linescan_dataset(out, "web", o);
  EXPECT_EQ(fs::path(cat), fs::path(out) / "web");
  EXPECT_TRUE(fs::is_regular_file(fs::path(cat) / "web.png"));
  EXPECT_TRUE(fs::is_regular_file(fs::path(cat) / "linescan.json"));
  for (const auto &e : fs::directory_iterator(out))
    EXPECT_NE(e.path().filename().string()[0], '.') << "staging left behind: " << e.path();
  const auto l = read_category(cat);
  EXPECT_EQ(l.layout, "mvtec");
  EXPECT_EQ(l.train_normal.size(), 6u);
  EXPECT_EQ(l.test.size(), 4u + 8u);
  EXPECT_EQ(l.defect_kinds(), (std::vector<std::string>{"fold", "hole", "scratch", "spot"}));
  std::map<std::string, int> per_kind;
  for (const auto &s : l.train_normal)
    EXPECT_EQ(cv::imread(s.image_path).size(), cv::Size(64, 64));
  for (const auto &s : l.test) {
    cv::Mat img = cv::imread(s.image_path, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(img.size(), cv::Size(64, 64)) << s.image_path;
    EXPECT_EQ(img.channels(), 3);
    if (!s.anomalous) {
      EXPECT_TRUE(s.mask_path.empty());
      continue;
    }
    ++per_kind[s.defect];
    cv::Mat mask = cv::imread(s.mask_path, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(mask.size(), img.size()) << s.mask_path;
    ASSERT_EQ(mask.type(), CV_8U);
    const int area = cv::countNonZero(mask);
    EXPECT_GT(area, 0) << s.mask_path;
    EXPECT_LT(area, 64 * 64 / 4) << s.mask_path;
    EXPECT_EQ(cv::countNonZero(mask == 255) + cv::countNonZero(mask == 0), 64 * 64); // binary
    // The defect shows: the masked pixels differ from the rest of the tile.
    cv::Mat grey;
    cv::cvtColor(img, grey, cv::COLOR_BGR2GRAY);
    const double in = cv::mean(grey, mask)[0], out_mean = cv::mean(grey, mask == 0)[0];
    if (s.defect == "hole") {
      EXPECT_LT(in, out_mean - 30) << s.image_path;
    }
    // The mask lies inside the tile, away from its border (the whole defect is in it).
    const cv::Rect box = cv::boundingRect(mask);
    EXPECT_GT(box.x, 0);
    EXPECT_GT(box.y, 0);
    EXPECT_LT(box.x + box.width, 64);
    EXPECT_LT(box.y + box.height, 64);
  }
  EXPECT_EQ(per_kind, (std::map<std::string, int>{{"fold", 2}, {"hole", 2}, {"scratch", 2}, {"spot", 2}}));
}

TEST(LineScan, DeterministicAndSeeded) {
  TempDir dir;
  auto o = small_options(make_texture(dir));
  o.defect_kinds = {"scratch", "fold"};
  write_linescan_dataset(dir.file("a"), "c", o);
  write_linescan_dataset(dir.file("b"), "c", o);
  const auto a = tree(dir.file("a/c")), b = tree(dir.file("b/c"));
  EXPECT_EQ(a.size(), 6u + 4u + 2u * 2u * 2u + 2u); // tiles, masks, web.png, linescan.json
  EXPECT_TRUE(a == b) << "two runs with one seed differ";
  o.seed = 12;
  write_linescan_dataset(dir.file("d"), "c", o);
  const auto d = tree(dir.file("d/c"));
  ASSERT_EQ(d.size(), a.size());
  EXPECT_NE(a.at("train/good/000.png"), d.at("train/good/000.png"));
  EXPECT_NE(a.at("ground_truth/fold/000_mask.png"), d.at("ground_truth/fold/000_mask.png"));
}

TEST(LineScan, Errors) {
  TempDir dir;
  auto o = small_options(make_texture(dir));
  write_linescan_dataset(dir.file("out"), "web", o);
  const auto before = tree(dir.file("out/web"));
  EXPECT_PRN_ERROR(write_linescan_dataset(dir.file("out"), "web", o), "already exists", "web");
  EXPECT_TRUE(tree(dir.file("out/web")) == before); // untouched
  auto bad = o;
  bad.defect_kinds = {"scratch", "dent"};
  EXPECT_PRN_ERROR(write_linescan_dataset(dir.file("out"), "x", bad), "unknown defect kind", "dent");
  bad = o;
  bad.lines = 300;
  EXPECT_PRN_ERROR(write_linescan_dataset(dir.file("out"), "x", bad), "too few", "need at least");
  bad = o;
  bad.texture = dir.file("none.pat");
  EXPECT_PRN_ERROR(write_linescan_dataset(dir.file("out"), "x", bad), "does not exist", "none.pat");
  bad = o;
  bad.train_normal = 0;
  EXPECT_PRN_ERROR(write_linescan_dataset(dir.file("out"), "x", bad), "at least one training tile");
  bad = o;
  bad.tile = 200;
  EXPECT_PRN_ERROR(write_linescan_dataset(dir.file("out"), "x", bad), "width");
  EXPECT_FALSE(fs::exists(dir.file("out/x")));
}

TEST(LineScan, SystemTexture) {
  const auto all = find_system_textures();
  if (all.empty())
    GTEST_SKIP() << "no system textures (scripts/setup.sh installs gimp-data and python3-skimage)";
  TempDir dir;
  for (const std::string &name : {std::string("Fabric/burlap.pat"), std::string("brick.png")}) {
    auto it = std::find_if(all.begin(), all.end(), [&](const std::string &p) {
      return p.size() >= name.size() && p.compare(p.size() - name.size(), name.size(), name) == 0;
    });
    if (it == all.end())
      continue;
    auto o = small_options(*it);
    const auto l = read_category(write_linescan_dataset(dir.path(), fs::path(name).stem().string(), o));
    EXPECT_EQ(l.test.size(), 12u) << name;
    // Normals vary (a texture) and are not saturated.
    auto img = load_image(l.train_normal[0].image_path, 0);
    EXPECT_GT(img.std().item<float>(), 0.02f) << name;
    EXPECT_GT(img.mean().item<float>(), 0.15f) << name;
    EXPECT_LT(img.mean().item<float>(), 0.85f) << name;
  }
}

// render_linescan_web: a whole web for streaming, with planted defects.
TEST(LineScanWeb, DeterministicDefectsInsideAndVisible) {
  TempDir dir;
  const std::string tex = make_texture(dir);
  const std::vector<std::string> kinds{"scratch", "spot", "hole", "fold"};
  const auto a = render_linescan_web(tex, 320, 768, 64, 10, kinds, 3);
  ASSERT_EQ(a.rgb8.sizes(), (std::vector<int64_t>{768, 320, 3}));
  EXPECT_EQ(a.rgb8.dtype(), torch::kUInt8);
  ASSERT_EQ(a.defects.size(), 10u);
  const auto b = render_linescan_web(tex, 320, 768, 64, 10, kinds, 3);
  EXPECT_TRUE(torch::equal(a.rgb8, b.rgb8));
  ASSERT_EQ(b.defects.size(), a.defects.size());
  for (size_t i = 0; i < a.defects.size(); ++i) {
    const auto &d = a.defects[i], &e = b.defects[i];
    EXPECT_EQ(std::tie(d.kind, d.x, d.y, d.width, d.height, d.area), std::tie(e.kind, e.x, e.y, e.width, e.height, e.area));
  }
  const auto other = render_linescan_web(tex, 320, 768, 64, 10, kinds, 4);
  EXPECT_FALSE(torch::equal(a.rgb8, other.rgb8));

  // The same web without defects: every defect changes its box, nothing far from the boxes changes.
  const auto clean = render_linescan_web(tex, 320, 768, 64, 0, kinds, 3);
  EXPECT_TRUE(clean.defects.empty());
  const cv::Mat dirty_m(768, 320, CV_8UC3, a.rgb8.data_ptr<uint8_t>());
  const cv::Mat clean_m(768, 320, CV_8UC3, clean.rgb8.data_ptr<uint8_t>());
  cv::Mat diff;
  cv::absdiff(dirty_m, clean_m, diff);
  cv::Mat changed;
  cv::cvtColor(diff, changed, cv::COLOR_RGB2GRAY);
  changed = changed > 0;
  cv::Mat near = cv::Mat::zeros(768, 320, CV_8U);
  std::map<std::string, int> per_kind;
  int64_t prev_row = 0;
  for (size_t i = 0; i < a.defects.size(); ++i) {
    const auto &d = a.defects[i];
    EXPECT_EQ(d.kind, kinds[i % kinds.size()]); // cycled in web order
    ++per_kind[d.kind];
    EXPECT_GE(d.y, 64 + 8) << "the first tile of lines stays clean";
    EXPECT_GE(d.y / 64, prev_row) << "web order: by cell row"; // a box lies in its cell's inner box
    prev_row = d.y / 64;
    EXPECT_GE(d.x, 0);
    EXPECT_GT(d.width, 0);
    EXPECT_GT(d.height, 0);
    EXPECT_LE(d.x + d.width, 320);
    EXPECT_LE(d.y + d.height, 768);
    EXPECT_LE(d.width, 64);
    EXPECT_LE(d.height, 64);
    EXPECT_GT(d.area, 0) << d.kind;
    EXPECT_LE(d.area, d.width * d.height);
    const cv::Rect box(static_cast<int>(d.x), static_cast<int>(d.y), static_cast<int>(d.width),
                       static_cast<int>(d.height));
    EXPECT_GT(cv::countNonZero(changed(box)), d.area / 3) << d.kind << " at " << d.x << "," << d.y;
    cv::rectangle(near, cv::Rect(box.x - 8, box.y - 8, box.width + 16, box.height + 16), 255, cv::FILLED);
  }
  EXPECT_EQ(per_kind, (std::map<std::string, int>{{"fold", 2}, {"hole", 2}, {"scratch", 3}, {"spot", 3}}));
  EXPECT_EQ(cv::countNonZero(changed & ~near), 0) << "pixels changed away from every defect";
  // No two defects in one cell: boxes do not overlap.
  for (size_t i = 0; i < a.defects.size(); ++i)
    for (size_t j = i + 1; j < a.defects.size(); ++j) {
      const auto &p = a.defects[i], &q = a.defects[j];
      const cv::Rect r1(int(p.x), int(p.y), int(p.width), int(p.height)), r2(int(q.x), int(q.y), int(q.width), int(q.height));
      EXPECT_EQ((r1 & r2).area(), 0);
    }
  // A hole is dark against its surroundings.
  for (const auto &d : a.defects)
    if (d.kind == "hole") {
      const cv::Rect box(int(d.x), int(d.y), int(d.width), int(d.height));
      EXPECT_LT(cv::mean(dirty_m(box))[0], cv::mean(clean_m(box))[0] - 20);
    }
}

TEST(LineScanWeb, FullWebAndKinds) {
  TempDir dir;
  const std::string tex = make_texture(dir);
  // 5 cells per row (x spread to the edge), 3 rows below the first tile: 15 cells.
  const auto full = render_linescan_web(tex, 330, 256, 64, 15, {"hole"}, 1);
  ASSERT_EQ(full.defects.size(), 15u);
  std::set<std::pair<int64_t, int64_t>> cells;
  for (const auto &d : full.defects) {
    EXPECT_EQ(d.kind, "hole");
    EXPECT_TRUE(cells.insert({d.y / 64, (d.x + d.width / 2) * 5 / 330}).second) << "two defects in one cell";
  }
  EXPECT_PRN_ERROR(render_linescan_web(tex, 330, 256, 64, 16, {"hole"}, 1), "16 defects", "has 15");
}

TEST(LineScanWeb, Errors) {
  TempDir dir;
  const std::string tex = make_texture(dir);
  const std::vector<std::string> k{"scratch"};
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 640, 16, 1, k, 0), "tile 16");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 40, 640, 64, 1, k, 0), "width 40");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 20000, 640, 64, 1, k, 0), "width 20000");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 50, 64, 1, k, 0), "50 lines");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 16384, 16384, 64, 1, k, 0), "16384 lines", "2^27");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 640, 64, -1, k, 0), "defects >= 0", "-1");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 640, 64, 2, {}, 0), "no defect kinds");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 640, 64, 2, {"scratch", "dent"}, 0), "unknown defect kind", "dent");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 640, 64, 2, {"hole", "hole"}, 0), "'hole' given twice");
  EXPECT_PRN_ERROR(render_linescan_web(tex, 320, 640, 64, 100, k, 0), "100 defects", "has 45");
  EXPECT_PRN_ERROR(render_linescan_web(dir.file("none.pat"), 320, 640, 64, 1, k, 0), "does not exist", "none.pat");
}
