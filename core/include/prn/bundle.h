// prnanomaly core: the model bundle the trainer writes and the GStreamer element
// loads: the model file (weights, prototypes, hyper-parameters) plus category,
// calibrated thresholds and score normalisation, the seen anomalies used, and
// provenance.
#pragma once

#include "prn/model_io.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace prn {

// Thresholds and normalisation, calibrated on held-out normal images.
// Raw scores: pixel = sigmoid output in [0, 1]; image = mean of the top-k pixels.
struct Calibration {
  bool calibrated = false;       // false: defaults, no held-out images were scored
  int64_t normal_images = 0;     // held-out normal images scored
  double image_quantile = 1.0;   // the quantile of their image scores used as threshold
  double pixel_quantile = 0.999; // the quantile of their pixel scores used as threshold
  double image_threshold = 0.5;  // raw image score at or above which an image is anomalous
  double pixel_threshold = 0.5;  // raw pixel score at or above which a pixel is anomalous
  double image_min = 0.0, image_max = 1.0; // range of the held-out normal image scores

  // Normalised image score in [0, 1]: 0.5 at the threshold, linear with slope
  // 1 / (image_max - image_min) around it, clipped.
  double normalise_image(double raw) const;
  // The same for pixel scores (slope 1 / (1 - pixel_threshold) above the
  // threshold and 1 / pixel_threshold below, so 0 -> 0 and 1 -> 1).
  torch::Tensor normalise_pixels(const torch::Tensor &raw) const;
};

// Calibration from the raw image scores (N) and pixel maps (N, 1, H, W) of
// held-out normal images. Throws prn::Error for no images or bad quantiles.
Calibration calibrate(const torch::Tensor &image_scores, const torch::Tensor &pixel_maps,
                      double image_quantile = 1.0, double pixel_quantile = 0.999);

struct Bundle {
  PrnModel model{nullptr};
  std::string category;
  Calibration calibration;
  std::vector<std::string> seen_anomalies; // dataset-relative paths
  Metadata provenance;                     // versions, seed, dataset hash, date, command...
  // A stable id of the weights: "<category>-<16 hex digits>" (FNV-1a of every
  // tensor's bytes), set by load_bundle and save_bundle.
  std::string model_id;
};

// Writes the bundle (a model file whose metadata carries the bundle fields) atomically.
void save_bundle(const std::string &path, Bundle &bundle);
// Reads a bundle; model files without bundle fields load with defaults
// (uncalibrated). Errors as load_model, naming the file.
Bundle load_bundle(const std::string &path);

std::string weights_id(PrnModelImpl &model);

} // namespace prn
