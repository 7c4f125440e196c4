#include "prn/postprocess.h"

#include "prn/error.h"
#include "prn/ops/topk_mean.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace prn {

// The checks stay here (callers catch prn::Error); the score itself is the
// topk_mean op (CPU twin or CUDA kernel), the one implementation.
torch::Tensor image_scores(const torch::Tensor &maps, int64_t k) {
  PRN_CHECK(maps.defined() && (maps.dim() == 3 || (maps.dim() == 4 && maps.size(1) == 1)),
            "image_scores: expected maps of shape (B, 1, H, W) or (B, H, W), got ",
            maps.defined() ? maps.sizes() : torch::IntArrayRef{});
  PRN_CHECK(k >= 1, "image_scores: expected k >= 1, got ", k);
  PRN_CHECK(maps.size(-1) * maps.size(-2) > 0, "image_scores: maps have no pixels: ", maps.sizes());
  PRN_CHECK(maps.is_floating_point(), "image_scores: expected floating-point maps, got ", maps.scalar_type());
  torch::NoGradGuard no_grad;
  return ops::topk_mean(maps.detach().to(torch::kFloat32), k);
}

torch::Tensor smooth_maps(const torch::Tensor &maps, double sigma) {
  PRN_CHECK(maps.defined() && (maps.dim() == 3 || (maps.dim() == 4 && maps.size(1) == 1)),
            "smooth_maps: expected maps of shape (B, 1, H, W) or (B, H, W), got ",
            maps.defined() ? maps.sizes() : torch::IntArrayRef{});
  PRN_CHECK(maps.is_floating_point(), "smooth_maps: expected floating-point maps, got ", maps.scalar_type());
  PRN_CHECK(std::isfinite(sigma) && sigma >= 0, "smooth_maps: expected sigma >= 0 (pixels), got ", sigma);
  const int64_t H = maps.size(-2), W = maps.size(-1);
  if (sigma == 0 || H * W == 0 || maps.size(0) == 0)
    return maps;
  torch::NoGradGuard no_grad;
  auto x = maps.detach().reshape({maps.size(0), 1, H, W}).to(torch::kFloat32);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(maps.device());
  // One pass per axis; reflect padding needs a radius below the side.
  auto pass = [&](torch::Tensor t, int64_t side, bool rows) {
    const int64_t r = std::min<int64_t>(static_cast<int64_t>(std::ceil(4.0 * sigma)), side - 1);
    if (r <= 0)
      return t;
    auto k = torch::arange(-r, r + 1, opts);
    k = torch::exp(-0.5 * (k / sigma) * (k / sigma));
    k = k / k.sum();
    auto weight = rows ? k.view({1, 1, 2 * r + 1, 1}) : k.view({1, 1, 1, 2 * r + 1});
    const std::vector<int64_t> pad = rows ? std::vector<int64_t>{0, 0, r, r} : std::vector<int64_t>{r, r, 0, 0};
    namespace F = torch::nn::functional;
    return torch::conv2d(F::pad(t, F::PadFuncOptions(pad).mode(torch::kReflect)), weight);
  };
  x = pass(pass(x, H, true), W, false);
  return x.reshape(maps.sizes()).to(maps.scalar_type());
}

} // namespace prn
