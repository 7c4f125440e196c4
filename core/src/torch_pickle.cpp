#include "torch_pickle.h"

#include "internal/unpickler.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <sstream>

namespace prn::detail {
namespace {

size_t element_size(const at::Tensor &t) { return t.element_size(); }

std::vector<std::pair<std::string, at::Tensor>> collect(const PyRef &root) {
  if (root->kind != PyObj::Kind::Dict)
    pickle_fail("the file holds no dict at its top level (expected a state_dict)");
  for (const char *wrapper : {"state_dict", "model"})
    for (auto &[k, v] : root->dict)
      if (k->kind == PyObj::Kind::Str && k->s == wrapper && v->kind == PyObj::Kind::Dict)
        return collect(v);
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (auto &[k, v] : root->dict)
    if (k->kind == PyObj::Kind::Str && v->kind == PyObj::Kind::Tensor)
      out.emplace_back(k->s, v->tensor);
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> read_zip(const std::string &bytes) {
  std::istringstream in(bytes);
  caffe2::serialize::PyTorchStreamReader reader(&in);
  auto [pkl_ptr, pkl_size] = reader.getRecord("data.pkl");
  std::string pkl(static_cast<const char *>(pkl_ptr.get()), pkl_size);
  StorageTable storages;
  size_t end = 0;
  auto root = unpickle(pkl, 0, storages, end);
  for (auto &e : storages.order) {
    const std::string record = "data/" + e.key;
    if (!reader.hasRecord(record))
      pickle_fail("the archive lacks storage record '" + record + "'");
    const size_t want = static_cast<size_t>(e.data.numel()) * element_size(e.data);
    if (reader.getRecordSize(record) != want)
      pickle_fail("storage record '" + record + "' has " + std::to_string(reader.getRecordSize(record)) +
           " bytes, expected " + std::to_string(want));
    if (want > 0)
      reader.getRecord(record, e.data.data_ptr(), want);
  }
  return collect(root);
}

// torch.save's legacy format: pickles of the magic number, the protocol version,
// system info, the object, the list of storage keys; then, per key in that
// order, an int64 element count and the raw little-endian data.
std::vector<std::pair<std::string, at::Tensor>> read_legacy(const std::string &bytes) {
  StorageTable storages;
  size_t pos = 0;
  auto next = [&]() {
    return unpickle(bytes, pos, storages, pos);
  };
  auto magic = next();
  if (magic->kind != PyObj::Kind::Int || static_cast<uint64_t>(magic->i) != 0xa86a20f9469cfc6cULL)
    pickle_fail("not a torch.save file (wrong magic number)");
  auto protocol = next();
  if (protocol->kind != PyObj::Kind::Int || protocol->i != 1001)
    pickle_fail("unsupported legacy protocol version");
  next(); // sys_info
  auto root = next();
  auto keys = next();
  if (keys->kind != PyObj::Kind::List && keys->kind != PyObj::Kind::Tuple)
    pickle_fail("malformed storage key list");
  for (auto &k : keys->items) {
    auto it = storages.by_key.find(k->s);
    if (it == storages.by_key.end())
      pickle_fail("storage '" + k->s + "' is listed but never used");
    auto &t = storages.order[it->second].data;
    if (bytes.size() - pos < 8)
      pickle_fail("the file ends early (truncated file)");
    int64_t numel = 0;
    std::memcpy(&numel, bytes.data() + pos, 8);
    pos += 8;
    if (numel != t.numel())
      pickle_fail("storage '" + k->s + "' size mismatch");
    const size_t n = static_cast<size_t>(numel) * element_size(t);
    if (bytes.size() - pos < n)
      pickle_fail("the file ends early (truncated file)");
    std::memcpy(t.data_ptr(), bytes.data() + pos, n);
    pos += n;
  }
  return collect(root);
}

} // namespace

std::vector<std::pair<std::string, at::Tensor>> read_torch_save_tensors(const std::string &bytes) {
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0)
    return read_zip(bytes);
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x80)
    return read_legacy(bytes);
  pickle_fail("not a torch.save file (neither a zip archive nor a pickle)");
}

} // namespace prn::detail
