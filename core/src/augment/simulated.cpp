// DRAEM-style simulated anomalies: a Perlin mask filled with an augmented
// source, blended onto a normal image.
#include "prn/augment/simulated.h"

#include "augment/augmenters.h"
#include "prn/augment/perlin.h"
#include "prn/error.h"

namespace prn::augment {
namespace detail {

SimulatedTrace simulate_anomaly_traced(const torch::Tensor &normal, const torch::Tensor &source,
                                       at::Generator &gen) {
  check_image(normal, "simulate_anomaly: normal image");
  PRN_CHECK(source.defined(), "simulate_anomaly: expected a (3, H, W) or (1, H, W) float32 source, got an "
                              "undefined tensor");
  PRN_CHECK(source.dim() == 3 && (source.size(0) == 3 || source.size(0) == 1) && source.size(1) > 0 &&
                source.size(2) > 0,
            "simulate_anomaly: expected a (3, H, W) or (1, H, W) source, got shape ", source.sizes());
  PRN_CHECK(source.scalar_type() == torch::kFloat32, "simulate_anomaly: expected a float32 source, got ",
            source.scalar_type());
  const int64_t h = normal.size(1), w = normal.size(2);

  auto src = source.to(normal.device());
  if (src.size(0) == 1)
    src = src.expand({3, src.size(1), src.size(2)});
  if (src.size(1) != h || src.size(2) != w) // cv2.resize(INTER_LINEAR): half-pixel centres, no antialias
    src = at::upsample_bilinear2d(src.unsqueeze(0), {h, w}, /*align_corners=*/false).squeeze(0);

  SimulatedTrace t;
  t.augmented = draem_augment(src.contiguous(), gen);
  auto m = perlin_mask(h, w, gen).to(normal.device());
  t.beta = uniform(gen, 0.0, 0.8);
  auto image = normal * (1.0 - m) + (1.0 - t.beta) * t.augmented * m + t.beta * normal * m;
  t.out.image = image.contiguous();
  t.out.mask = m.contiguous();
  return t;
}

} // namespace detail

Synthesised simulate_anomaly(const torch::Tensor &normal, const torch::Tensor &source, at::Generator &gen) {
  return detail::simulate_anomaly_traced(normal, source, gen).out;
}

} // namespace prn::augment
