#include "train/batch_preview.h"

#include "common/images.h"
#include "prn/error.h"

#include <vector>

namespace prn::train {

void write_batch_preview(const std::string &png, const Batch &batch) {
  const int64_t n = batch.images.size(0);
  PRN_CHECK(n >= 1 && batch.masks.size(0) == n && static_cast<int64_t>(batch.kinds.size()) == n,
            "batch preview: expected images, masks and kinds for every sample, got ", n, " images, ",
            batch.masks.size(0), " masks, ", batch.kinds.size(), " kinds");
  std::vector<cv::Mat> tiles;
  for (int64_t i = 0; i < n; ++i) {
    const std::string caption = std::to_string(i) + " " + sample_kind_name(batch.kinds[static_cast<size_t>(i)]);
    auto strip = prn::cli::overlay_strip(batch.images[i], batch.masks[i], batch.masks[i], caption);
    tiles.insert(tiles.end(), strip.begin(), strip.end());
  }
  prn::cli::write_png(png, prn::cli::grid(tiles, n > 1 ? 6 : 3));
}

} // namespace prn::train
