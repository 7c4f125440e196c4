// Internal: a reader of the pickle programs torch.save writes for state dicts,
// for both its zip archive format and its legacy (pre-1.6) format.
//
// LibTorch's own torch::pickle_load turns collections.OrderedDict (what
// torch.save(model.state_dict()) writes) into None and fails (pytorch issue
// 100741, still so in 2.14), and does not read the legacy format, so state dicts
// are read with this small unpickler: the opcode subset of pickle protocols 2-5
// that torch.save emits, tensors rebuilt from their storages, everything that is
// not a dict, list, tuple, scalar, string or tensor kept as an opaque object.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

namespace prn::detail {

// All tensors of the top-level dict (or of a {"state_dict"|"model": dict}
// wrapper) of a torch.save file held in `bytes`, by key, in file order.
// Throws std::runtime_error with a plain description of what is wrong.
std::vector<std::pair<std::string, at::Tensor>> read_torch_save_tensors(const std::string &bytes);

} // namespace prn::detail
