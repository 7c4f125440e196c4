// GIMP pattern files (.pat), the texture files a Debian system carries, a
// texture laid seamlessly over a web and what a line camera makes of it (the
// rendering stages of the line-scan generator; linescan.cpp plants defects and
// writes the dataset).
#include "prn/data/linescan.h"

#include "prn/data/dataset.h"
#include "data/rng.h"
#include "prn/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace fs = std::filesystem;

namespace prn::data {

namespace {

uint32_t be32(const std::string &b, size_t off) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[off + i])); };
  return (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
}

std::string lower_ext(const std::string &path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

using detail::Rng;

// A smooth random field (rows x cols, zero mean, unit std): normals on a grid
// `step` apart, cubic-interpolated.
cv::Mat smooth_field(Rng &rng, int rows, int cols, int step) {
  cv::Mat coarse(rows / step + 4, cols / step + 4, CV_32F);
  for (int i = 0; i < coarse.rows; ++i)
    for (int j = 0; j < coarse.cols; ++j)
      coarse.at<float>(i, j) = static_cast<float>(rng.normal());
  cv::Mat fine;
  cv::resize(coarse, fine, cv::Size(coarse.cols * step, coarse.rows * step), 0, 0, cv::INTER_CUBIC);
  fine = fine(cv::Rect(step, step, cols, rows)).clone();
  cv::Scalar mean, sd;
  cv::meanStdDev(fine, mean, sd);
  return (fine - mean[0]) / std::max(sd[0], 1e-6);
}

float luma(const cv::Vec3f &p) { return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]; }

double smoothstep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

// Cross-fades a photograph with its copy shifted by half a period along one
// axis, in a band of n/8 at each edge (the copy's seam sits in the middle,
// where the original has all the weight), keeping the local variance: the
// result wraps without a seam and is the photograph away from the edges.
cv::Mat crossfade(const cv::Mat &p, bool along_x) {
  cv::Mat shifted;
  const int n = along_x ? p.cols : p.rows;
  cv::Mat a = along_x ? p.colRange(n / 2, n) : p.rowRange(n / 2, n), b = along_x ? p.colRange(0, n / 2) : p.rowRange(0, n / 2);
  along_x ? cv::hconcat(a, b, shifted) : cv::vconcat(a, b, shifted);
  const cv::Scalar m = cv::mean(p);
  const cv::Vec3f mean(static_cast<float>(m[0]), static_cast<float>(m[1]), static_cast<float>(m[2]));
  cv::Mat out(p.size(), p.type());
  for (int y = 0; y < p.rows; ++y)
    for (int x = 0; x < p.cols; ++x) {
      const int i = along_x ? x : y;
      const double w = smoothstep(0, n / 8.0, std::min(i + 0.5, n - i - 0.5));
      const double norm = 1.0 / std::sqrt(w * w + (1 - w) * (1 - w));
      const cv::Vec3f d = (p.at<cv::Vec3f>(y, x) - mean) * static_cast<float>(w) +
                          (shifted.at<cv::Vec3f>(y, x) - mean) * static_cast<float>(1 - w);
      out.at<cv::Vec3f>(y, x) = mean + d * static_cast<float>(norm);
    }
  return out;
}

// One period of the texture, seamless under wrap-around: a GIMP pattern tiles
// by design; a photograph is cross-faded with its half-shifted copy along both
// axes. Scaled so a tile shows about two periods at most, and its mean
// brightness brought into [0.3, 0.7].
cv::Mat texture_period(const torch::Tensor &tex, bool photo, int64_t tile) {
  auto hwc = tex.permute({1, 2, 0}).contiguous();
  cv::Mat p(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC3, hwc.data_ptr<float>());
  p = p.clone();
  if (photo)
    p = crossfade(crossfade(p, true), false);
  const double scale = std::max(1.0, static_cast<double>(tile) / (2.0 * std::min(p.rows, p.cols)));
  if (scale > 1.0) { // resize a 3x3 wrap of the period, keep the centre: no seams
    cv::Mat big;
    cv::copyMakeBorder(p, big, p.rows, p.rows, p.cols, p.cols, cv::BORDER_WRAP);
    const int h = static_cast<int>(std::lround(p.rows * scale)), w = static_cast<int>(std::lround(p.cols * scale));
    cv::resize(big, big, cv::Size(3 * w, 3 * h), 0, 0, cv::INTER_CUBIC);
    p = big(cv::Rect(w, h, w, h)).clone();
  }
  double m = 0;
  p.forEach<cv::Vec3f>([](cv::Vec3f &v, const int *) { v = cv::Vec3f(std::clamp(v[0], 0.f, 1.f), std::clamp(v[1], 0.f, 1.f), std::clamp(v[2], 0.f, 1.f)); });
  for (int y = 0; y < p.rows; ++y)
    for (int x = 0; x < p.cols; ++x)
      m += luma(p.at<cv::Vec3f>(y, x));
  m /= static_cast<double>(p.total());
  if (m < 0.3)
    p *= 0.3 / std::max(m, 1e-3);
  else if (m > 0.7)
    p = 1.0 - (1.0 - p) * (0.3 / (1.0 - m));
  return p;
}

// The texture laid over the web: wrapped at a random offset, displaced by a
// smooth field (a web is not rigid: breaks the exact repetition) and with a
// slowly varying contrast (material density).
cv::Mat render_texture(const cv::Mat &period, int L, int W, Rng &rng) {
  const cv::Mat dx = smooth_field(rng, L, W, 160) * 1.8, dy = smooth_field(rng, L, W, 160) * 1.8;
  const cv::Mat density = smooth_field(rng, L, W, 320) * 0.08 + 1.0;
  const double ox = rng.uniform(0, period.cols), oy = rng.uniform(0, period.rows);
  cv::Scalar mean = cv::mean(period);
  cv::Mat web(L, W, CV_32FC3);
  const int ph = period.rows, pw = period.cols;
  for (int y = 0; y < L; ++y)
    for (int x = 0; x < W; ++x) {
      const double u = x + ox + dx.at<float>(y, x), v = y + oy + dy.at<float>(y, x);
      const double fu = std::floor(u), fv = std::floor(v);
      const float ax = static_cast<float>(u - fu), ay = static_cast<float>(v - fv);
      const int x0 = ((static_cast<int>(fu) % pw) + pw) % pw, y0 = ((static_cast<int>(fv) % ph) + ph) % ph;
      const int x1 = (x0 + 1) % pw, y1 = (y0 + 1) % ph;
      const cv::Vec3f s = (period.at<cv::Vec3f>(y0, x0) * (1 - ax) + period.at<cv::Vec3f>(y0, x1) * ax) * (1 - ay) +
                          (period.at<cv::Vec3f>(y1, x0) * (1 - ax) + period.at<cv::Vec3f>(y1, x1) * ax) * ay;
      const float k = density.at<float>(y, x);
      for (int c = 0; c < 3; ++c)
        web.at<cv::Vec3f>(y, x)[c] = static_cast<float>(mean[c] + (s[c] - mean[c]) * k);
    }
  return web;
}

// The camera: per-column gain (vignetting, a smooth variation and a small
// fixed-pattern part per column and channel), slow illumination drift along
// the lines, Gaussian sensor noise; float in, 8-bit out (channel order kept).
cv::Mat camera(const cv::Mat &web, Rng &rng) {
  const int L = web.rows, W = web.cols;
  std::vector<cv::Vec3f> col_gain(static_cast<size_t>(W));
  const cv::Mat col_smooth = smooth_field(rng, 1, W, std::max(8, W / 6));
  for (int x = 0; x < W; ++x) {
    const double q = (x - W / 2.0) / (W / 2.0), base = (1 - 0.1 * q * q) * (1 + 0.02 * col_smooth.at<float>(0, x));
    const double fpn = 0.006 * rng.normal();
    for (int k = 0; k < 3; ++k)
      col_gain[static_cast<size_t>(x)][k] = static_cast<float>(base * (1 + fpn + 0.003 * rng.normal()));
  }
  const cv::Mat drift = smooth_field(rng, L, 1, 700);
  const double period = rng.uniform(1500, 3000), phase = rng.uniform(0, 2 * M_PI);
  cv::Mat out(L, W, CV_8UC3);
  for (int y = 0; y < L; ++y) {
    const double line = 1 + 0.03 * drift.at<float>(y, 0) + 0.015 * std::sin(2 * M_PI * y / period + phase);
    for (int x = 0; x < W; ++x) {
      const cv::Vec3f p = web.at<cv::Vec3f>(y, x);
      cv::Vec3b &q = out.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k) {
        const double v = p[k] * col_gain[static_cast<size_t>(x)][k] * line + 0.012 * rng.normal();
        q[k] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255));
      }
    }
  }
  return out;
}

} // namespace

// Layout (all big-endian uint32): header_size, version, width, height,
// bytes per pixel, magic "GPAT"; then the pattern's name (UTF-8, NUL-terminated)
// up to header_size; then width * height * bpp bytes, rows top to bottom.
// bpp 1: grey, 2: grey + alpha, 3: RGB, 4: RGBA (alpha is dropped).
torch::Tensor read_gimp_pattern(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  PRN_CHECK(in, "GIMP pattern '", path, "': cannot open the file");
  const std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PRN_CHECK(b.size() >= 24, "GIMP pattern '", path, "': file too short for a header (", b.size(), " bytes)");
  const uint32_t header = be32(b, 0), version = be32(b, 4), width = be32(b, 8), height = be32(b, 12),
                 bpp = be32(b, 16);
  PRN_CHECK(b.compare(20, 4, "GPAT") == 0, "GIMP pattern '", path, "': bad magic (expected \"GPAT\" at byte 20)");
  PRN_CHECK(version == 1 || version == 2, "GIMP pattern '", path, "': unsupported version ", version,
            " (expected 1 or 2)");
  PRN_CHECK(bpp >= 1 && bpp <= 4, "GIMP pattern '", path, "': unsupported bytes per pixel ", bpp,
            " (expected 1 to 4)");
  PRN_CHECK(width >= 1 && height >= 1 && width <= 65536 && height <= 65536, "GIMP pattern '", path,
            "': bad size ", width, "x", height);
  PRN_CHECK(header >= 24 && header <= b.size(), "GIMP pattern '", path, "': bad header size ", header);
  const uint64_t need = uint64_t(width) * height * bpp;
  PRN_CHECK(b.size() - header >= need, "GIMP pattern '", path, "': truncated: ", width, "x", height, "x", bpp,
            " needs ", need, " bytes of pixels, the file holds ", b.size() - header);
  const auto *px = reinterpret_cast<const uint8_t *>(b.data() + header);
  auto raw = torch::from_blob(const_cast<uint8_t *>(px), {int64_t(height), int64_t(width), int64_t(bpp)},
                              torch::kUInt8)
                 .to(torch::kFloat32)
                 .div(255.0f);
  torch::Tensor rgb = bpp <= 2 ? raw.select(2, 0).unsqueeze(2).expand({-1, -1, 3})
                               : raw.narrow(2, 0, 3);
  return rgb.permute({2, 0, 1}).contiguous();
}

std::vector<std::string> find_system_textures() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const char *dir : {"/usr/share/gimp/2.0/patterns", "/usr/share/gimp/3.0/patterns"}) {
    if (!fs::is_directory(dir, ec))
      continue;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file(ec) && lower_ext(it->path().string()) == ".pat")
        out.push_back(it->path().string());
  }
  for (const char *photo : {"brick.png", "grass.png", "gravel.png"}) {
    const fs::path p = fs::path("/usr/lib/python3/dist-packages/skimage/data") / photo;
    if (fs::is_regular_file(p, ec))
      out.push_back(p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

torch::Tensor load_texture(const std::string &path) {
  std::error_code ec;
  PRN_CHECK(fs::is_regular_file(path, ec), "texture '", path, "' does not exist");
  torch::Tensor t = lower_ext(path) == ".pat" ? read_gimp_pattern(path) : load_image(path, 0);
  PRN_CHECK(t.size(1) >= 8 && t.size(2) >= 8, "texture '", path, "' is too small (", t.size(2), "x", t.size(1),
            "; at least 8x8)");
  return t;
}

std::vector<std::string> list_texture_files(const std::string &folder) {
  std::error_code ec;
  PRN_CHECK(fs::is_directory(folder, ec), "texture folder '", folder, "' is not a folder");
  static const std::set<std::string> exts{".png", ".jpg", ".jpeg", ".bmp", ".tif", ".pat"};
  std::vector<std::string> files;
  for (const auto &e : fs::recursive_directory_iterator(folder))
    if (e.is_regular_file() && exts.count(lower_ext(e.path().string())))
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  PRN_CHECK(!files.empty(), "texture folder '", folder, "' holds no texture (.png .jpg .jpeg .bmp .tif, or GIMP .pat)");
  return files;
}

std::vector<torch::Tensor> load_texture_folder(const std::string &folder, int64_t size) {
  PRN_CHECK(size >= 1, "load_texture_folder: expected size >= 1, got ", size);
  const std::vector<std::string> files = list_texture_files(folder);
  std::vector<torch::Tensor> out;
  out.reserve(files.size());
  for (const auto &f : files) {
    if (lower_ext(f) != ".pat") {
      out.push_back(load_image(f, size));
      continue;
    }
    // GIMP patterns are small seamless tiles: resized like any other image.
    out.push_back(at::upsample_bilinear2d(load_texture(f).unsqueeze(0), {size, size}, /*align_corners=*/false)
                      .squeeze(0)
                      .clamp(0, 1));
  }
  return out;
}

torch::Tensor render_texture_web(const std::string &texture, int64_t lines, int64_t width, int64_t tile,
                                 uint64_t seed) {
  PRN_CHECK(lines >= 1 && width >= 1 && tile >= 1, "render_texture_web: expected positive sizes, got ", lines, "x",
            width, " and tile ", tile);
  const bool photo = lower_ext(texture) != ".pat"; // photographs do not tile seamlessly
  const cv::Mat period = texture_period(load_texture(texture), photo, tile);
  Rng rng{seed * 0x9e3779b97f4a7c15ULL + 0x7e47u};
  cv::Mat web = render_texture(period, static_cast<int>(lines), static_cast<int>(width), rng);
  return torch::from_blob(web.data, {lines, width, 3}, torch::kFloat32).permute({2, 0, 1}).contiguous();
}

torch::Tensor line_camera(const torch::Tensor &web, uint64_t seed) {
  PRN_CHECK(web.dim() == 3 && web.size(0) == 3 && web.size(1) >= 1 && web.size(2) >= 1,
            "line_camera: expected (3, lines, width), got ", web.sizes());
  auto hwc = web.detach().to(torch::kCPU, torch::kFloat32).permute({1, 2, 0}).contiguous();
  const cv::Mat in(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC3, hwc.data_ptr<float>());
  Rng rng{seed * 0xd1342543de82ef95ULL + 0xca3e7au};
  cv::Mat out = camera(in, rng);
  return torch::from_blob(out.data, {out.rows, out.cols, 3}, torch::kUInt8).permute({2, 0, 1}).contiguous();
}

} // namespace prn::data
