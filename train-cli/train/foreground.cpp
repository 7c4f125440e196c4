#include "train/foreground.h"

#include "common/images.h"
#include "prn/error.h"

#include <opencv2/imgproc.hpp>

namespace prn::train {

Foreground foreground_from_name(const std::string &name) {
  if (name == "none")
    return Foreground::None;
  if (name == "bright")
    return Foreground::Bright;
  if (name == "dark")
    return Foreground::Dark;
  throw prn::Error("--foreground: expected none, bright or dark, got '" + name + "'");
}

const char *foreground_name(Foreground f) {
  switch (f) {
  case Foreground::None: return "none";
  case Foreground::Bright: return "bright";
  case Foreground::Dark: return "dark";
  }
  return "?";
}

torch::Tensor otsu_foreground(const torch::Tensor &images, Foreground f) {
  PRN_CHECK(f != Foreground::None, "otsu_foreground: expected bright or dark, got none");
  PRN_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 3 && images.size(0) >= 1,
            "otsu_foreground: expected (N, 3, S, S) images, got ",
            images.defined() ? images.sizes() : torch::IntArrayRef{});
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  auto out = torch::zeros({n, 1, h, w});
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5));
  const int type = f == Foreground::Bright ? cv::THRESH_BINARY : cv::THRESH_BINARY_INV;
  for (int64_t i = 0; i < n; ++i) {
    cv::Mat grey, mask;
    cv::cvtColor(prn::cli::to_bgr8(images[i]), grey, cv::COLOR_BGR2GRAY);
    cv::threshold(grey, mask, 0, 1, type | cv::THRESH_OTSU);
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, kernel);
    cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, kernel);
    out[i][0].copy_(torch::from_blob(mask.data, {h, w}, torch::kUInt8).to(torch::kFloat32));
  }
  return out;
}

} // namespace prn::train
