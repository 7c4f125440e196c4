// prn-eval: what it writes for one evaluated category besides the metric tables.
#pragma once

#include "eval/test_split.h"

#include "prn/metrics.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace prn::eval {

// The maps, masks and scores of an evaluated split, one row per split sample.
struct ScoredSplit {
  const TestSplit &split;
  torch::Tensor maps;   // (N, 1, S, S) anomaly maps
  torch::Tensor masks;  // (N, 1, S, S) ground truth in {0, 1}
  torch::Tensor labels; // (N) 1 anomalous, 0 normal
  torch::Tensor scores; // (N) image scores
};

// `s` with every character other than letters, digits, '-', '_' and '.' replaced
// by '_' ("category" when empty): a file or folder name.
std::string safe_name(std::string s);

// scores.csv: path,defect,label,image_score per image.
void write_scores_csv(const std::string &path, const ScoredSplit &s);

// A float32 tensor as raw bytes: int32 ndim, int64 sizes, then the values.
void write_tensor_bin(const std::string &path, const torch::Tensor &t);

// roc_image.png, roc_pixel.png and pro.png (the PRO curve up to `fpr_limit`) in
// `dir`, each only when its metric is finite; titles name `category` and the value.
void write_curves(const std::string &dir, const std::string &category, const ScoredSplit &s, double image_auroc,
                  double pixel_auroc, double aupro, const prn::Curve &pro_curve, double fpr_limit);

// `count` overlays (image, ground truth, heatmap), half anomalous and half normal
// where the split has both, spread over it: one PNG each in dir/overlays/ and all
// of them in dir/overlays.png. Images are reloaded at `input_size`.
void write_overlays(const std::string &dir, const ScoredSplit &s, int64_t count, int64_t input_size);

} // namespace prn::eval
