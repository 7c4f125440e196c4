#include "prn/prototypes.h"

#include "prn/error.h"

#include <cmath>
#include <random>

namespace prn {
namespace {

// Squared distances (N, K) of the rows of x to the rows of c, both centred on
// the same mean; float32 GEMM form, clamped at 0.
torch::Tensor sq_distances(const torch::Tensor &x, const torch::Tensor &x_norm, const torch::Tensor &c) {
  auto c_norm = c.pow(2).sum(1);
  auto d = x_norm.unsqueeze(1) - 2 * torch::mm(x, c.t()) + c_norm.unsqueeze(0);
  return d.clamp_min(0);
}

} // namespace

int64_t prototype_count(int64_t num_normal, double ratio, int64_t fixed) {
  PRN_CHECK(num_normal >= 1, "prototypes need at least one normal image, got ", num_normal);
  int64_t k = fixed > 0 ? fixed : static_cast<int64_t>(std::llround(ratio * static_cast<double>(num_normal)));
  return std::clamp<int64_t>(k, 1, num_normal);
}

KMeansResult kmeans(const torch::Tensor &points, int64_t k, int64_t max_iter, uint64_t seed) {
  PRN_CHECK(points.defined() && points.dim() == 2, "kmeans: expected points of shape (N, D), got ",
            points.defined() ? points.sizes() : torch::IntArrayRef{});
  PRN_CHECK(points.scalar_type() == torch::kFloat32, "kmeans: expected float32 points, got ", points.scalar_type());
  const int64_t n = points.size(0);
  PRN_CHECK(k >= 1 && k <= n, "kmeans: expected 1 <= k <= N = ", n, ", got k = ", k);
  PRN_CHECK(max_iter >= 1, "kmeans: expected max_iter >= 1, got ", max_iter);
  PRN_CHECK(torch::isfinite(points).all().item<bool>(), "kmeans: points hold non-finite values");

  torch::NoGradGuard no_grad;
  auto mean = points.to(torch::kFloat64).mean(0);
  auto x = (points.to(torch::kFloat64) - mean).to(torch::kFloat32).cpu().contiguous();
  auto x_norm = x.pow(2).sum(1);
  std::mt19937_64 rng(seed);

  // k-means++ seeding.
  std::vector<int64_t> chosen;
  chosen.push_back(static_cast<int64_t>(std::uniform_int_distribution<int64_t>(0, n - 1)(rng)));
  auto closest = sq_distances(x, x_norm, x.index({chosen[0]}).unsqueeze(0)).squeeze(1).to(torch::kFloat64);
  while (static_cast<int64_t>(chosen.size()) < k) {
    auto acc = closest.accessor<double, 1>();
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i)
      total += acc[i];
    int64_t pick = -1;
    if (total > 0.0) {
      double r = std::uniform_real_distribution<double>(0.0, total)(rng);
      for (int64_t i = 0; i < n; ++i) {
        r -= acc[i];
        if (r <= 0.0 && acc[i] > 0.0) {
          pick = i;
          break;
        }
      }
      if (pick < 0)
        for (int64_t i = n - 1; i >= 0 && pick < 0; --i)
          if (acc[i] > 0.0)
            pick = i;
    }
    if (pick < 0) // all remaining points coincide with centres: take the next unused one
      for (int64_t i = 0; i < n && pick < 0; ++i)
        if (std::find(chosen.begin(), chosen.end(), i) == chosen.end())
          pick = i;
    chosen.push_back(pick);
    auto d = sq_distances(x, x_norm, x.index({pick}).unsqueeze(0)).squeeze(1).to(torch::kFloat64);
    closest = torch::minimum(closest, d);
  }
  auto centers = x.index_select(0, torch::tensor(chosen, torch::kLong)).clone();

  KMeansResult result;
  torch::Tensor labels;
  for (int64_t it = 0; it < max_iter; ++it) {
    auto dist = sq_distances(x, x_norm, centers);
    auto new_labels = dist.argmin(1);
    result.iterations = it + 1;
    if (labels.defined() && torch::equal(new_labels, labels)) {
      result.converged = true;
      break;
    }
    labels = new_labels;
    // Means in float64, in index order: deterministic.
    auto sums = torch::zeros({k, x.size(1)}, torch::kFloat64);
    sums.index_add_(0, labels, x.to(torch::kFloat64));
    auto counts = torch::bincount(labels, {}, k).to(torch::kFloat64);
    auto point_dist = dist.gather(1, labels.unsqueeze(1)).squeeze(1);
    auto counts_acc = counts.accessor<double, 1>();
    for (int64_t c = 0; c < k; ++c) {
      if (counts_acc[c] > 0) {
        centers[c].copy_((sums[c] / counts_acc[c]).to(torch::kFloat32));
      } else {
        const int64_t far = point_dist.argmax().item<int64_t>();
        centers[c].copy_(x[far]);
        point_dist[far] = 0;
      }
    }
  }
  if (!labels.defined() || !result.converged)
    labels = sq_distances(x, x_norm, centers).argmin(1);
  auto x64 = x.to(torch::kFloat64);
  result.inertia = (x64 - centers.to(torch::kFloat64).index_select(0, labels)).pow(2).sum().item<double>();
  result.centers = (centers.to(torch::kFloat64) + mean).to(torch::kFloat32);
  result.labels = labels;
  return result;
}

std::array<torch::Tensor, 3> fit_prototypes(const std::array<torch::Tensor, 3> &features, int64_t k,
                                            int64_t max_iter, uint64_t seed) {
  std::array<torch::Tensor, 3> out;
  for (int s = 0; s < 3; ++s) {
    const auto &f = features[s];
    PRN_CHECK(f.defined() && f.dim() == 4, "fit_prototypes: expected (N, C, H, W) features at scale ", s, ", got ",
              f.defined() ? f.sizes() : torch::IntArrayRef{});
    auto r = kmeans(f.reshape({f.size(0), -1}).to(torch::kFloat32).cpu(), k, max_iter, seed + s);
    out[s] = r.centers.view({k, f.size(1), f.size(2), f.size(3)}).contiguous();
  }
  return out;
}

} // namespace prn
