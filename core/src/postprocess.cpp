#include "prn/postprocess.h"

#include "prn/error.h"

namespace prn {

torch::Tensor image_scores(const torch::Tensor &maps, int64_t k) {
  PRN_CHECK(maps.defined() && (maps.dim() == 3 || (maps.dim() == 4 && maps.size(1) == 1)),
            "image_scores: expected maps of shape (B, 1, H, W) or (B, H, W), got ",
            maps.defined() ? maps.sizes() : torch::IntArrayRef{});
  PRN_CHECK(k >= 1, "image_scores: expected k >= 1, got ", k);
  auto flat = maps.reshape({maps.size(0), -1});
  PRN_CHECK(flat.size(1) > 0, "image_scores: maps have no pixels: ", maps.sizes());
  const int64_t kk = std::min<int64_t>(k, flat.size(1));
  return std::get<0>(flat.topk(kk, 1, true, false)).mean(1);
}

} // namespace prn
