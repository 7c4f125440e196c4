#include "prn/synthetic.h"

#include "prn/error.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace prn {

DefectKind defect_kind_from_string(const std::string &name) {
  if (name == "scratch")
    return DefectKind::Scratch;
  if (name == "spot")
    return DefectKind::Spot;
  if (name == "hole")
    return DefectKind::Hole;
  throw Error(detail::concat("unknown defect kind '", name, "': expected scratch, spot or hole"));
}

const char *to_string(DefectKind kind) {
  switch (kind) {
  case DefectKind::Scratch:
    return "scratch";
  case DefectKind::Spot:
    return "spot";
  case DefectKind::Hole:
    return "hole";
  }
  return "?";
}

SyntheticTextures::SyntheticTextures(int64_t size, uint64_t seed)
    : size_(size), gen_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  PRN_CHECK(size >= 16, "synthetic textures: expected size >= 16, got ", size);
  auto r = torch::arange(size, torch::kFloat32);
  auto grid = torch::meshgrid({r, r}, "ij");
  yy_ = grid[0];
  xx_ = grid[1];
}

double SyntheticTextures::uniform(double lo, double hi) {
  return lo + (hi - lo) * at::rand({1}, gen_, torch::kFloat64).item<double>();
}

torch::Tensor SyntheticTextures::texture() {
  const double S = static_cast<double>(size_);
  // Three gratings at fixed family orientations/periods, random phases.
  auto t = torch::zeros({size_, size_});
  const double angles[3] = {0.0, 1.2, 2.3};
  const double periods[3] = {S / 12.0, S / 20.0, S / 7.0};
  const double weights[3] = {0.5, 0.3, 0.2};
  for (int i = 0; i < 3; ++i) {
    const double a = angles[i] + uniform(-0.05, 0.05);
    const double k = 2 * M_PI / periods[i];
    t += weights[i] * torch::sin(k * (std::cos(a) * xx_ + std::sin(a) * yy_) + uniform(0, 2 * M_PI));
  }
  // Band-limited grain: noise averaged over 3x3, twice.
  auto noise = at::randn({1, 1, size_, size_}, gen_);
  noise = torch::avg_pool2d(noise, 3, 1, 1);
  noise = torch::avg_pool2d(noise, 3, 1, 1).view({size_, size_});
  auto base = 0.5 + 0.18 * t + 0.25 * noise;
  auto tint = torch::tensor({0.95f, 0.85f, 0.7f}).view({3, 1, 1}) * static_cast<float>(uniform(0.9, 1.1));
  auto img = base.unsqueeze(0) * tint + 0.02 * at::randn({3, size_, size_}, gen_);
  return img.clamp(0, 1);
}

torch::Tensor SyntheticTextures::defect_mask(DefectKind kind) {
  const double S = static_cast<double>(size_);
  const double cy = uniform(0.2 * S, 0.8 * S), cx = uniform(0.2 * S, 0.8 * S);
  switch (kind) {
  case DefectKind::Scratch: {
    const double a = uniform(0, M_PI), half = uniform(0.12 * S, 0.3 * S), width = uniform(1.0, 2.5) * S / 128.0;
    const double dy = std::sin(a), dx = std::cos(a);
    auto along = (xx_ - cx) * dx + (yy_ - cy) * dy;
    auto across = ((xx_ - cx) * -dy + (yy_ - cy) * dx).abs();
    return ((along.abs() <= half) & (across <= width)).to(torch::kFloat32);
  }
  case DefectKind::Spot: {
    const double a = uniform(0, M_PI), ry = uniform(0.04 * S, 0.1 * S), rx = uniform(0.04 * S, 0.1 * S);
    auto u = ((xx_ - cx) * std::cos(a) + (yy_ - cy) * std::sin(a)) / rx;
    auto v = ((xx_ - cx) * -std::sin(a) + (yy_ - cy) * std::cos(a)) / ry;
    return (u * u + v * v <= 1).to(torch::kFloat32);
  }
  case DefectKind::Hole: {
    const double r = uniform(0.02 * S, 0.05 * S);
    return ((xx_ - cx).pow(2) + (yy_ - cy).pow(2) <= r * r).to(torch::kFloat32);
  }
  }
  return torch::zeros({size_, size_});
}

torch::Tensor SyntheticTextures::normal_images(int64_t n) {
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < n; ++i)
    out.push_back(texture());
  return n > 0 ? torch::stack(out) : torch::zeros({0, 3, size_, size_});
}

SyntheticBatch SyntheticTextures::defective_images(int64_t n, DefectKind kind) {
  std::vector<torch::Tensor> imgs, masks;
  for (int64_t i = 0; i < n; ++i) {
    auto img = texture();
    auto m = defect_mask(kind);
    torch::Tensor filled;
    switch (kind) {
    case DefectKind::Scratch: { // a darker or brighter line
      const double sign = uniform(0, 1) < 0.5 ? -1.0 : 1.0;
      filled = (img + sign * uniform(0.25, 0.4)).clamp(0, 1);
      break;
    }
    case DefectKind::Spot: // a stain: shifted colour, flattened texture
      filled = (0.4 * img + 0.6 * torch::tensor({0.55f, 0.35f, 0.2f}).view({3, 1, 1})).clamp(0, 1);
      break;
    case DefectKind::Hole:
      filled = 0.05 * img;
      break;
    }
    imgs.push_back(img * (1 - m) + filled * m);
    masks.push_back(m.unsqueeze(0));
  }
  if (n == 0)
    return {torch::zeros({0, 3, size_, size_}), torch::zeros({0, 1, size_, size_})};
  return {torch::stack(imgs), torch::stack(masks)};
}

} // namespace prn
