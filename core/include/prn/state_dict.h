// prnanomaly core: reading torch.save'd state-dict files in C++, without Python.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace prn {

using TensorMap = std::map<std::string, torch::Tensor>;

// Reads a state dict written by torch.save: the zip archive format (torch >= 1.6)
// and the legacy format before it; an OrderedDict (what model.state_dict() is) or
// a plain dict of tensors; a {"state_dict": ...} or {"model": ...} wrapper and a
// "module." prefix (DataParallel) are unwrapped. Non-tensor values are skipped.
// Throws prn::Error naming the file for a missing, unreadable, truncated or
// corrupt file.
TensorMap read_state_dict(const std::string &path);

// Writes tensors as a dict in torch.save's zip format with LibTorch's pickler
// (read by read_state_dict; Python's torch.load reads it with weights_only=False),
// atomically: to a temporary file in the same folder, then renamed over path.
void write_state_dict(const std::string &path, const TensorMap &tensors);

// Writes bytes to path atomically (prn/atomic_file.h: a hidden temporary file,
// fsync, rename over path, fsync of the folder); throws prn::Error naming the
// file on failure. An existing file is never left half written.
void write_file_atomic(const std::string &path, const std::string &bytes);

} // namespace prn
