// Connected anomalous regions of a pixel score map, as boxes (prn-infer).
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

namespace prn::cli {

struct Region {
  int x = 0, y = 0, width = 0, height = 0; // bounding box, in the map's pixel coordinates
  int64_t area = 0;                         // pixels in the region
  double peak = 0;                          // highest score in the region
};

// The 8-connected regions of the pixels of `scores` (CV_32FC1) at or above
// `threshold`, sorted by peak score, highest first.
std::vector<Region> find_regions(const cv::Mat &scores, double threshold);

} // namespace prn::cli
