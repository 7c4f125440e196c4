// prn-train --foreground: where extended anomalies may be pasted. On object
// categories (a part on a plain background) a defect pasted onto the background
// teaches the model nothing true; the foreground of each normal image is found
// by Otsu's threshold on its grey levels.
#pragma once

#include <torch/torch.h>

#include <string>

namespace prn::train {

enum class Foreground {
  None,   // anywhere (textures, webs): the default
  Bright, // the object is brighter than its background
  Dark,   // the object is darker than its background
};

// "none" | "bright" | "dark"; throws prn::Error naming the value otherwise.
Foreground foreground_from_name(const std::string &name);
const char *foreground_name(Foreground f);

// (N, 3, S, S) images in [0, 1] -> (N, 1, S, S) float masks in {0, 1}: the
// pixels on the `f` side of each image's Otsu threshold of its grey levels,
// cleaned by a morphological opening and closing (5x5 ellipse). Throws
// prn::Error for f == None or bad shapes.
torch::Tensor otsu_foreground(const torch::Tensor &images, Foreground f);

} // namespace prn::train
