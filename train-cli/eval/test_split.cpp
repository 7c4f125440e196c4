#include "eval/test_split.h"

#include "prn/error.h"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace fs = std::filesystem;

namespace prn::eval {

namespace {

// The defect kinds --kinds selects (empty: all). "unseen": the test split's
// kinds minus `seen_kinds`, those of the bundle's seen anomalies.
std::set<std::string> kinds_to_evaluate(const std::vector<std::string> &wanted,
                                        const prn::data::CategoryListing &listing,
                                        const std::set<std::string> &seen_kinds, const std::string &folder) {
  const auto present = listing.defect_kinds();
  std::set<std::string> kinds;
  if (wanted.size() == 1 && wanted[0] == "unseen") {
    for (const auto &k : present)
      if (!seen_kinds.count(k))
        kinds.insert(k);
    PRN_CHECK(!kinds.empty(), "option --kinds unseen: every defect kind of '", folder,
              "' has seen anomalies in the bundle; nothing unseen to evaluate");
    return kinds;
  }
  for (const auto &k : wanted) {
    PRN_CHECK(std::find(present.begin(), present.end(), k) != present.end(), "option --kinds: '", k,
              "' is not a defect kind of the test split of '", folder, "'");
    kinds.insert(k);
  }
  return kinds;
}

} // namespace

TestSplit select_test_split(const prn::data::CategoryListing &listing, const std::vector<std::string> &seen_anomalies,
                            const std::vector<std::string> &wanted_kinds, const std::string &folder) {
  const std::set<std::string> seen(seen_anomalies.begin(), seen_anomalies.end());
  const fs::path root = fs::path(listing.root).lexically_normal();
  // One pass: the seen anomalies leave (their kinds noted), the rest are candidates.
  std::set<std::string> matched, seen_kinds;
  std::vector<std::pair<prn::data::Sample, std::string>> candidates; // sample, dataset-relative path
  for (const auto &s : listing.test) {
    const std::string rel = fs::path(s.image_path).lexically_normal().lexically_relative(root).generic_string();
    const std::string with_category = listing.category + "/" + rel;
    if (seen.count(rel) || seen.count(with_category)) {
      matched.insert(seen.count(rel) ? rel : with_category);
      seen_kinds.insert(s.defect);
      continue;
    }
    candidates.emplace_back(s, rel);
  }
  // --kinds: anomalous candidates of other kinds leave too.
  TestSplit split;
  split.kinds = kinds_to_evaluate(wanted_kinds, listing, seen_kinds, folder);
  for (auto &[s, rel] : candidates) {
    if (s.anomalous && !split.kinds.empty() && !split.kinds.count(s.defect)) {
      ++split.other_kinds;
      continue;
    }
    split.samples.push_back(std::move(s));
    split.rel_paths.push_back(std::move(rel));
  }
  split.seen_removed = static_cast<int64_t>(listing.test.size() - split.samples.size()) - split.other_kinds;
  split.seen_listed = seen.size();
  split.seen_elsewhere = seen.size() - matched.size();
  PRN_CHECK(!split.samples.empty(), "data folder '", folder,
            "': no test image left after removing the seen anomalies");
  return split;
}

} // namespace prn::eval
