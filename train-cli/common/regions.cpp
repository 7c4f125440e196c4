#include "regions.h"

#include "prn/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace prn::cli {

std::vector<Region> find_regions(const cv::Mat &scores, double threshold) {
  PRN_CHECK(scores.type() == CV_32FC1, "find_regions: expected a single-channel float map");
  const cv::Mat above = scores >= threshold;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(above, labels, stats, centroids, 8, CV_32S);
  std::vector<Region> out(static_cast<size_t>(std::max(0, n - 1)));
  for (int i = 1; i < n; ++i) {
    Region &r = out[static_cast<size_t>(i - 1)];
    r.x = stats.at<int>(i, cv::CC_STAT_LEFT);
    r.y = stats.at<int>(i, cv::CC_STAT_TOP);
    r.width = stats.at<int>(i, cv::CC_STAT_WIDTH);
    r.height = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    r.area = stats.at<int>(i, cv::CC_STAT_AREA);
    r.peak = -1;
  }
  for (int y = 0; y < labels.rows; ++y) {
    const int *l = labels.ptr<int>(y);
    const float *s = scores.ptr<float>(y);
    for (int x = 0; x < labels.cols; ++x)
      if (l[x] > 0) {
        Region &r = out[static_cast<size_t>(l[x] - 1)];
        r.peak = std::max(r.peak, static_cast<double>(s[x]));
      }
  }
  std::stable_sort(out.begin(), out.end(), [](const Region &a, const Region &b) { return a.peak > b.peak; });
  return out;
}

} // namespace prn::cli
