// Internal: the pickle machine behind torch_pickle.h: the values a state-dict
// pickle holds, the storages its tensors point into, and a runner of the opcode
// subset of pickle protocols 2-5 that torch.save emits.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace prn::detail {

// Throws std::runtime_error(what): the readers' one way of failing.
[[noreturn]] void pickle_fail(const std::string &what);

struct PyObj;
using PyRef = std::shared_ptr<PyObj>;

// The values a state-dict pickle holds.
struct PyObj {
  enum class Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Tensor, Object };
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                              // Str, Bytes, Global ("module.name"), Object (its class)
  std::vector<PyRef> items;                   // Tuple, List
  std::vector<std::pair<PyRef, PyRef>> dict;  // Dict, in insertion order
  at::Tensor tensor;                          // Tensor (a storage is a 1-D tensor)
};

// Storages met in persistent ids, allocated on first sight and filled later by
// the file format's reader (zip records or the legacy trailer).
struct StorageTable {
  struct Entry {
    at::Tensor data; // 1-D, numel elements
    std::string key;
  };
  std::vector<Entry> order;
  std::map<std::string, size_t> by_key;

  at::Tensor get(const std::string &key, at::ScalarType dtype, int64_t numel);
};

// Runs the pickle program in `bytes` from `pos` to its STOP; returns the value
// it built and sets `end` to the position after the STOP. Tensors are views of
// storages in `storages`, still to be filled.
PyRef unpickle(const std::string &bytes, size_t pos, StorageTable &storages, size_t &end);

} // namespace prn::detail
