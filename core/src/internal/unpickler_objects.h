// Internal: the values the pickle machine of internal/unpickler.h builds
// (unpickler_objects.cpp): plain objects, tensors of the storages that persistent
// ids name, and what REDUCE/NEWOBJ of a global gives (dicts, tensors rebuilt from
// their storages, parameters as their tensors, anything else an opaque object).
#pragma once

#include "internal/unpickler.h"

#include <cstdint>
#include <string>

namespace prn::detail {

// A new object of kind `k`; an Int holding `v`; a Str/Bytes/Global/Object `k` holding `s`.
PyRef make(PyObj::Kind k);
PyRef make_int(int64_t v);
PyRef make_str(PyObj::Kind k, std::string s);

// BINPERSID: the storage a persistent id ('storage', <torch.XStorage>, key,
// location, numel) names, as a Tensor object, allocated in `storages` on first sight.
PyRef persistent_load(const PyRef &pid, StorageTable &storages);

// REDUCE/NEWOBJ: `callable` called with the tuple `args`.
PyRef call(const PyRef &callable, const PyRef &args);

} // namespace prn::detail
