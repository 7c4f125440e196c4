#include "prn/state_dict.h"

#include "prn/atomic_file.h"
#include "prn/error.h"
#include "torch_pickle.h"

#include <torch/serialize.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace prn {
namespace {

std::vector<char> read_bytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  PRN_CHECK(in.good(), "cannot open weights file '", path, "': ", std::strerror(errno));
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PRN_CHECK(!in.bad(), "cannot read weights file '", path, "'");
  return data;
}

} // namespace

TensorMap read_state_dict(const std::string &path) {
  std::vector<char> data = read_bytes(path);
  PRN_CHECK(!data.empty(), "weights file '", path, "' is empty");
  std::vector<std::pair<std::string, at::Tensor>> items;
  try {
    items = detail::read_torch_save_tensors(std::string(data.begin(), data.end()));
  } catch (const c10::Error &e) {
    throw Error(detail::concat("weights file '", path, "' is corrupt or truncated: ", e.what_without_backtrace()));
  } catch (const std::exception &e) {
    throw Error(detail::concat("weights file '", path, "' is not a readable torch.save state dict: ", e.what()));
  }
  TensorMap out;
  for (auto &[key, value] : items)
    out[key.rfind("module.", 0) == 0 ? key.substr(7) : key] = value;
  PRN_CHECK(!out.empty(), "weights file '", path, "' holds no tensors");
  return out;
}

void write_file_atomic(const std::string &path, const std::string &bytes) {
  const AtomicWriteResult written = write_file_atomically(path, bytes);
  if (!written.ok())
    throw Error(written.error);
}

void write_state_dict(const std::string &path, const TensorMap &tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto &[k, v] : tensors)
    dict.insert(k, v.detach().cpu().contiguous());
  std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

} // namespace prn
