// prn-eval: which test images a bundle is evaluated on.
#pragma once

#include "prn/data/dataset.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace prn::eval {

// The images of a category's test split a bundle is evaluated on.
struct TestSplit {
  std::vector<prn::data::Sample> samples;
  std::vector<std::string> rel_paths; // each sample's path relative to the dataset root
  std::set<std::string> kinds;        // the defect kinds evaluated; empty: all
  int64_t seen_removed = 0;           // the bundle's seen anomalies taken out
  int64_t other_kinds = 0;            // anomalous images of kinds not evaluated, left out
  size_t seen_listed = 0;             // the bundle's seen anomalies (distinct paths)
  size_t seen_elsewhere = 0;          // of those, the ones not in this split
};

// The test split of `listing` minus the bundle's seen anomalies (dataset-relative
// paths, with or without the category folder in front), keeping the anomalous
// images of `wanted_kinds` only (empty: all; {"unseen"}: the kinds none of the
// seen anomalies come from). Throws prn::Error naming `folder` for a kind the
// split does not have, for "unseen" with nothing unseen, and for an empty result.
TestSplit select_test_split(const prn::data::CategoryListing &listing, const std::vector<std::string> &seen_anomalies,
                            const std::vector<std::string> &wanted_kinds, const std::string &folder);

} // namespace prn::eval
