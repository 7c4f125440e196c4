// prnanomaly core: saving and loading a model (weights, prototypes,
// hyper-parameters, text metadata) as one versioned file.
#pragma once

#include "prn/model.h"

#include <map>
#include <string>

namespace prn {

inline constexpr const char *kModelFormat = "prnanomaly-model";
inline constexpr int64_t kModelFormatMajor = 1;
inline constexpr int64_t kModelFormatMinor = 0;

using Metadata = std::map<std::string, std::string>;

// Writes the model (config, every parameter and buffer, prototypes included) and
// the metadata to path in torch.save's zip format, atomically.
void save_model(const std::string &path, PrnModelImpl &model, const Metadata &metadata = {});

struct LoadedModel {
  PrnModel model{nullptr};
  Metadata metadata;
  int64_t format_major = 0, format_minor = 0;
};

// Reads a file written by save_model. A missing, truncated, corrupt or foreign
// file, a newer major format version, or tensors that do not fit the recorded
// configuration throw prn::Error naming the file and the problem. Fields a newer
// minor version adds are ignored.
LoadedModel load_model(const std::string &path);

} // namespace prn
