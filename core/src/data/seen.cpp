// The seen-anomaly protocol of supervised training: anomalies drawn from the
// test split (and removed from it), or an explicit folder of seen anomalies.
#include "prn/data/dataset.h"

#include "data/rng.h"
#include "prn/error.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace prn::data {

namespace {

using SplitMix = detail::Rng;

// Picks k distinct indices of `pool` (partial Fisher-Yates), removing them.
std::vector<size_t> take(std::vector<size_t> &pool, size_t k, SplitMix &rng) {
  std::vector<size_t> out;
  for (size_t i = 0; i < k; ++i) {
    const size_t j = i + static_cast<size_t>(rng.below(pool.size() - i));
    std::swap(pool[i], pool[j]);
    out.push_back(pool[i]);
  }
  pool.erase(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(k));
  return out;
}

std::string canonical_or_same(const std::string &p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return ec ? p : c.string();
}

} // namespace

void draw_seen_anomalies(CategoryListing &listing, int64_t n, uint64_t seed) {
  PRN_CHECK(n >= 0, "seen anomalies: expected n >= 0, got ", n);
  if (n == 0)
    return;
  // Indices of the anomalous test samples per kind (sorted kinds, listing order).
  std::map<std::string, std::vector<size_t>> by_kind;
  size_t available = 0;
  for (size_t i = 0; i < listing.test.size(); ++i)
    if (listing.test[i].anomalous) {
      by_kind[listing.test[i].defect].push_back(i);
      ++available;
    }
  PRN_CHECK(static_cast<uint64_t>(n) <= available, "seen anomalies: ", n, " requested but the test split of '",
            listing.root, "' holds only ", available, " anomalous images");
  SplitMix rng{seed ^ 0x5eed5eed5eed5eedULL};
  const size_t per_kind = static_cast<size_t>(n) / by_kind.size();
  std::vector<size_t> chosen, rest;
  for (auto &[kind, pool] : by_kind) {
    // A kind with fewer than floor(n / kinds) images gives all it has.
    for (size_t i : take(pool, std::min(per_kind, pool.size()), rng))
      chosen.push_back(i);
    rest.insert(rest.end(), pool.begin(), pool.end());
  }
  std::sort(rest.begin(), rest.end()); // listing order, independent of the map
  for (size_t i : take(rest, static_cast<size_t>(n) - chosen.size(), rng))
    chosen.push_back(i);

  const std::set<size_t> picked(chosen.begin(), chosen.end());
  std::vector<Sample> remaining;
  for (size_t i = 0; i < listing.test.size(); ++i)
    (picked.count(i) ? listing.seen : remaining).push_back(listing.test[i]);
  listing.test = std::move(remaining);
  std::sort(listing.seen.begin(), listing.seen.end(),
            [](const Sample &a, const Sample &b) { return a.image_path < b.image_path; });
}

void use_seen_folder(CategoryListing &listing, const std::string &folder) {
  const auto images = list_images(folder);
  PRN_CHECK(!images.empty(), "seen anomalies: no images in '", folder, "'");
  const fs::path masks = fs::path(folder) / "masks";
  std::vector<Sample> seen;
  std::set<std::string> seen_paths;
  for (const auto &p : images) {
    const std::string stem = fs::path(p).stem().string();
    std::string mask;
    for (const auto &name : {stem + "_mask", stem})
      for (const char *ext : {".png", ".PNG", ".bmp", ".tif", ".tiff"}) {
        std::error_code ec;
        if (mask.empty() && fs::is_regular_file(masks / (name + ext), ec))
          mask = (masks / (name + ext)).string();
      }
    PRN_CHECK(!mask.empty(), "seen anomalies: missing mask for '", p, "': expected '",
              (masks / (stem + "_mask.png")).string(), "' or '", (masks / (stem + ".png")).string(), "'");
    seen.push_back({p, mask, "seen", true});
    seen_paths.insert(canonical_or_same(p));
  }
  // The same files listed in the test split leave it: they are seen now.
  std::vector<Sample> remaining;
  for (auto &s : listing.test)
    if (!seen_paths.count(canonical_or_same(s.image_path)))
      remaining.push_back(std::move(s));
  listing.test = std::move(remaining);
  listing.seen = std::move(seen);
}

} // namespace prn::data
