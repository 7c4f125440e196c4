// Dataset readers (MVTec AD, BTAD, KolektorSDD2, DAGM 2007), the listing's
// provenance hash and a compact SHA-256.
#include "prn/data/dataset.h"

#include "prn/error.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace prn::data {

// ---------------------------------------------------------------- SHA-256
std::string sha256_hex(const std::string &bytes) {
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  // Padding: 0x80, zeros to 56 mod 64, then the bit length big-endian.
  std::string msg = bytes;
  const uint64_t bits = static_cast<uint64_t>(bytes.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56)
    msg.push_back('\0');
  for (int i = 7; i >= 0; --i)
    msg.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const auto *p = reinterpret_cast<const unsigned char *>(msg.data() + off + 4 * i);
      w[i] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (uint32_t v : h)
    for (int i = 7; i >= 0; --i)
      out.push_back(hex[(v >> (4 * i)) & 0xf]);
  return out;
}

// ---------------------------------------------------------------- listing
std::vector<std::string> CategoryListing::defect_kinds() const {
  std::set<std::string> kinds;
  for (const auto &s : test)
    if (s.anomalous)
      kinds.insert(s.defect);
  return {kinds.begin(), kinds.end()};
}

std::string CategoryListing::listing_hash() const {
  std::vector<std::string> rel;
  auto add = [&](const std::string &p) {
    if (!p.empty())
      rel.push_back(fs::path(p).lexically_normal().lexically_relative(fs::path(root).lexically_normal()).generic_string());
  };
  for (const auto *split : {&train_normal, &test, &seen})
    for (const auto &s : *split) {
      add(s.image_path);
      add(s.mask_path);
    }
  std::sort(rel.begin(), rel.end());
  std::string joined;
  for (const auto &r : rel)
    joined += r + "\n";
  return sha256_hex(joined);
}

// ---------------------------------------------------------------- readers
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_dir(const fs::path &p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// A sub-folder by name: the exact name first, then ignoring case (DAGM's
// Train/Test, copies renamed by hand). Empty path when there is none.
fs::path child(const fs::path &dir, const std::string &name) {
  if (is_dir(dir / name))
    return dir / name;
  std::error_code ec;
  if (is_dir(dir))
    for (const auto &e : fs::directory_iterator(dir, ec))
      if (e.is_directory(ec) && lower(e.path().filename().string()) == lower(name))
        return e.path();
  return {};
}

fs::path need_child(const fs::path &dir, const std::string &name, const std::string &layout) {
  fs::path p = child(dir, name);
  PRN_CHECK(!p.empty(), layout, " dataset: missing folder '", (dir / name).string(), "'");
  return p;
}

std::string stem_of(const std::string &path) { return fs::path(path).stem().string(); }

// The image files of a folder by stem (a .png wins over other extensions).
using StemIndex = std::map<std::string, std::string>;
StemIndex index_stems(const fs::path &dir) {
  StemIndex index;
  if (!is_dir(dir))
    return index;
  for (const auto &p : list_images(dir.string())) {
    auto [it, fresh] = index.emplace(stem_of(p), p);
    if (!fresh && lower(fs::path(p).extension().string()) == ".png")
      it->second = p;
  }
  return index;
}

std::string find(const StemIndex &index, const std::string &stem) {
  auto it = index.find(stem);
  return it == index.end() ? std::string() : it->second;
}

Sample normal(const std::string &path) { return {path, "", "good", false}; }

std::string need_mask(const StemIndex &index, const fs::path &dir, const std::string &image,
                      const std::string &suffix, const std::string &layout) {
  std::string m = find(index, stem_of(image) + suffix);
  PRN_CHECK(!m.empty(), layout, " dataset: missing mask for '", image, "': expected '",
            (dir / (stem_of(image) + suffix + ".png")).string(), "'");
  return m;
}

std::vector<std::string> need_images(const fs::path &dir, const std::string &layout) {
  auto v = list_images(dir.string());
  PRN_CHECK(!v.empty(), layout, " dataset: no images in '", dir.string(), "'");
  return v;
}

void read_mvtec(CategoryListing &l) {
  const fs::path root = l.root;
  for (const auto &p : need_images(need_child(need_child(root, "train", "mvtec"), "good", "mvtec"), "mvtec"))
    l.train_normal.push_back(normal(p));
  const fs::path test = need_child(root, "test", "mvtec");
  std::vector<std::string> kinds;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(test, ec))
    if (e.is_directory(ec) && e.path().filename().string()[0] != '.')
      kinds.push_back(e.path().filename().string());
  std::sort(kinds.begin(), kinds.end());
  PRN_CHECK(!kinds.empty(), "mvtec dataset: no defect folders in '", test.string(), "'");
  for (const auto &kind : kinds) {
    const auto images = list_images((test / kind).string());
    if (kind == "good") {
      for (const auto &p : images)
        l.test.push_back(normal(p));
      continue;
    }
    const fs::path gt = root / "ground_truth" / kind;
    if (!images.empty())
      PRN_CHECK(is_dir(gt), "mvtec dataset: missing folder '", gt.string(), "' (masks of test/", kind, ")");
    const StemIndex masks = index_stems(gt);
    for (const auto &p : images)
      l.test.push_back({p, need_mask(masks, gt, p, "_mask", "mvtec"), kind, true});
  }
}

void read_btad(CategoryListing &l) {
  const fs::path root = l.root;
  for (const auto &p : need_images(need_child(need_child(root, "train", "btad"), "ok", "btad"), "btad"))
    l.train_normal.push_back(normal(p));
  const fs::path test = need_child(root, "test", "btad");
  PRN_CHECK(is_dir(test / "ok") || is_dir(test / "ko"), "btad dataset: missing folder '", (test / "ko").string(),
            "' (and test/ok)");
  if (is_dir(test / "ok"))
    for (const auto &p : list_images((test / "ok").string()))
      l.test.push_back(normal(p));
  if (is_dir(test / "ko")) {
    const auto images = list_images((test / "ko").string());
    const fs::path gt = root / "ground_truth" / "ko";
    if (!images.empty())
      PRN_CHECK(is_dir(gt), "btad dataset: missing folder '", gt.string(), "' (masks of test/ko)");
    const StemIndex masks = index_stems(gt);
    for (const auto &p : images)
      l.test.push_back({p, need_mask(masks, gt, p, "", "btad"), "ko", true});
  }
}

bool mask_nonempty(const std::string &path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_GRAYSCALE);
  PRN_CHECK(!m.empty(), "cannot decode mask file '", path, "'");
  return cv::countNonZero(m) > 0;
}

bool is_gt_name(const std::string &path) {
  const std::string s = stem_of(path);
  return s.size() > 3 && s.compare(s.size() - 3, 3, "_GT") == 0;
}

void read_ksdd2(CategoryListing &l) {
  const fs::path root = l.root;
  for (const char *split : {"train", "test"}) {
    const fs::path dir = need_child(root, split, "ksdd2");
    size_t images = 0;
    const StemIndex index = index_stems(dir);
    for (const auto &p : list_images(dir.string())) {
      if (is_gt_name(p))
        continue;
      ++images;
      const std::string gt = need_mask(index, dir, p, "_GT", "ksdd2");
      const bool bad = mask_nonempty(gt);
      if (std::strcmp(split, "train") == 0) {
        if (!bad)
          l.train_normal.push_back(normal(p));
      } else {
        l.test.push_back(bad ? Sample{p, gt, "defect", true} : normal(p));
      }
    }
    PRN_CHECK(images > 0, "ksdd2 dataset: no images in '", dir.string(), "'");
  }
}

// DAGM: Label/<stem>_label.<ext> marks a defective image; Label/Labels.txt,
// when present, lists "<n> <flag> <image> ..." and a flag of 1 needs a label.
void read_dagm(CategoryListing &l) {
  const fs::path root = l.root;
  for (const char *split : {"Train", "Test"}) {
    const fs::path dir = need_child(root, split, "dagm");
    const fs::path labels = need_child(dir, "Label", "dagm");
    std::set<std::string> flagged;
    std::ifstream txt(labels / "Labels.txt");
    for (std::string line; std::getline(txt, line);) {
      std::istringstream is(line);
      std::string idx, flag, name;
      if (is >> idx >> flag >> name && flag == "1")
        flagged.insert(stem_of(name));
    }
    const auto images = need_images(dir, "dagm");
    const StemIndex index = index_stems(labels);
    for (const auto &p : images) {
      std::string label = find(index, stem_of(p) + "_label");
      if (label.empty() && flagged.count(stem_of(p)))
        label = need_mask(index, labels, p, "_label", "dagm"); // throws, naming the label
      const bool bad = !label.empty();
      if (std::strcmp(split, "Train") == 0) {
        if (!bad)
          l.train_normal.push_back(normal(p));
      } else {
        l.test.push_back(bad ? Sample{p, label, "defect", true} : normal(p));
      }
    }
  }
}

bool has_gt_files(const fs::path &dir) {
  if (!is_dir(dir))
    return false;
  const auto images = list_images(dir.string());
  return std::any_of(images.begin(), images.end(), is_gt_name);
}

std::string guess_layout(const fs::path &root) {
  if (is_dir(root / "train" / "ok") || is_dir(root / "test" / "ko"))
    return "btad";
  if (is_dir(root / "train" / "good") || is_dir(root / "ground_truth"))
    return "mvtec";
  for (const char *split : {"Train", "Test"}) {
    const fs::path s = child(root, split);
    if (!s.empty() && !child(s, "Label").empty())
      return "dagm";
  }
  if (has_gt_files(root / "train") || has_gt_files(root / "test"))
    return "ksdd2";
  throw Error(prn::detail::concat("cannot tell the dataset layout of '", root.string(),
                             "': expected train/good (mvtec), train/ok (btad), train and test with *_GT images "
                             "(ksdd2) or Train/Label (dagm); pass the layout explicitly"));
}

} // namespace

CategoryListing read_category(const std::string &folder, const std::string &layout) {
  static const std::set<std::string> known = {"auto", "mvtec", "btad", "ksdd2", "dagm"};
  PRN_CHECK(known.count(layout), "unknown dataset layout '", layout, "': expected auto, mvtec, btad, ksdd2 or dagm");
  PRN_CHECK(!folder.empty() && is_dir(folder), "dataset folder '", folder, "' does not exist");
  CategoryListing l;
  auto trimmed = [](fs::path p) {
    p = p.lexically_normal();
    return p.has_filename() || !p.has_parent_path() ? p : p.parent_path();
  };
  const fs::path root = trimmed(folder);
  l.root = root.string();
  l.category = trimmed(fs::absolute(root)).filename().string();
  l.layout = layout == "auto" ? guess_layout(root) : layout;
  if (l.layout == "mvtec")
    read_mvtec(l);
  else if (l.layout == "btad")
    read_btad(l);
  else if (l.layout == "ksdd2")
    read_ksdd2(l);
  else
    read_dagm(l);
  PRN_CHECK(!l.train_normal.empty(), l.layout, " dataset '", l.root, "': no normal training images");
  PRN_CHECK(!l.test.empty(), l.layout, " dataset '", l.root, "': no test images");
  auto by_path = [](const Sample &a, const Sample &b) { return a.image_path < b.image_path; };
  std::sort(l.train_normal.begin(), l.train_normal.end(), by_path);
  std::sort(l.test.begin(), l.test.end(), by_path);
  return l;
}

} // namespace prn::data
