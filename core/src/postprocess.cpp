#include "prn/postprocess.h"

#include "prn/error.h"
#include "prn/ops/topk_mean.h"

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

} // namespace prn
