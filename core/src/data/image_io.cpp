// Image and mask files -> tensors (OpenCV decode), and folder listings.
#include "prn/data/dataset.h"

#include "prn/error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fs = std::filesystem;

namespace prn::data {

bool is_image_file(const std::string &path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char *known[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff",
                                ".pgm", ".ppm", ".pbm", ".pnm", ".webp"};
  return std::any_of(std::begin(known), std::end(known), [&](const char *k) { return ext == k; });
}

std::vector<std::string> list_images(const std::string &folder) {
  std::error_code ec;
  PRN_CHECK(fs::is_directory(folder, ec), "missing folder '", folder, "'");
  std::vector<std::string> out;
  for (const auto &entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_regular_file(ec))
      continue;
    if (is_image_file(name))
      out.push_back(entry.path().string());
  }
  PRN_CHECK(!ec, "cannot list folder '", folder, "': ", ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

cv::Mat read_unchanged(const std::string &path, const char *what) {
  std::error_code ec;
  PRN_CHECK(fs::is_regular_file(path, ec), what, " file '", path, "' does not exist");
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED | cv::IMREAD_IGNORE_ORIENTATION);
  PRN_CHECK(!m.empty(), "cannot decode ", what, " file '", path, "' (not an image OpenCV reads)");
  return m;
}

// Scale of the depth to [0, 1].
double depth_scale(const cv::Mat &m, const std::string &path) {
  switch (m.depth()) {
  case CV_8U:
    return 1.0 / 255.0;
  case CV_16U:
    return 1.0 / 65535.0;
  case CV_32F:
  case CV_64F:
    return 1.0;
  default:
    throw Error(prn::detail::concat("image '", path, "': unsupported pixel depth ", m.depth()));
  }
}

} // namespace

torch::Tensor load_image(const std::string &path, int64_t size) {
  cv::Mat m = read_unchanged(path, "image");
  cv::Mat f;
  m.convertTo(f, CV_32F, depth_scale(m, path));
  cv::Mat rgb;
  switch (f.channels()) {
  case 1:
    cv::cvtColor(f, rgb, cv::COLOR_GRAY2RGB);
    break;
  case 3:
    cv::cvtColor(f, rgb, cv::COLOR_BGR2RGB);
    break;
  case 4:
    cv::cvtColor(f, rgb, cv::COLOR_BGRA2RGB);
    break;
  default:
    throw Error(prn::detail::concat("image '", path, "': unsupported channel count ", f.channels()));
  }
  if (size > 0 && (rgb.rows != size || rgb.cols != size))
    cv::resize(rgb, rgb, cv::Size(static_cast<int>(size), static_cast<int>(size)), 0, 0, cv::INTER_AREA);
  cv::min(cv::max(rgb, 0.0), 1.0, rgb);
  rgb = rgb.isContinuous() ? rgb : rgb.clone();
  auto t = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kFloat32);
  return t.permute({2, 0, 1}).contiguous();
}

torch::Tensor load_mask(const std::string &path, int64_t size) {
  if (path.empty()) {
    PRN_CHECK(size > 0, "load_mask: an empty mask path needs a size > 0, got ", size);
    return torch::zeros({1, size, size}, torch::kFloat32);
  }
  cv::Mat m = read_unchanged(path, "mask");
  std::vector<cv::Mat> channels;
  cv::split(m, channels);
  // Colour masks: any non-zero colour channel (alpha ignored) marks a defect.
  const size_t colour = channels.size() == 4 ? 3 : channels.size();
  cv::Mat any = cv::Mat::zeros(m.size(), CV_8U);
  for (size_t c = 0; c < colour; ++c)
    any |= (channels[c] != 0);
  if (size > 0 && (any.rows != size || any.cols != size))
    cv::resize(any, any, cv::Size(static_cast<int>(size), static_cast<int>(size)), 0, 0, cv::INTER_NEAREST);
  cv::Mat f;
  any.convertTo(f, CV_32F, 1.0 / 255.0);
  auto t = torch::from_blob(f.data, {1, f.rows, f.cols}, torch::kFloat32);
  return (t > 0.5f).to(torch::kFloat32).contiguous();
}

} // namespace prn::data
