#include "prn/model_io.h"

#include "prn/error.h"
#include "prn/state_dict.h"

#include <torch/serialize.h>

#include <fstream>
#include <sstream>

namespace prn {
namespace {

c10::Dict<std::string, std::string> to_dict(const std::map<std::string, std::string> &m) {
  c10::Dict<std::string, std::string> d;
  for (const auto &[k, v] : m)
    d.insert(k, v);
  return d;
}

std::map<std::string, std::string> string_map(const c10::IValue &v, const std::string &path, const char *field) {
  PRN_CHECK(v.isGenericDict(), "model file '", path, "': field '", field, "' is not a dict");
  std::map<std::string, std::string> out;
  for (const auto &item : v.toGenericDict()) {
    PRN_CHECK(item.key().isString() && item.value().isString(), "model file '", path, "': field '", field,
              "' must map strings to strings");
    out[item.key().toStringRef()] = item.value().toStringRef();
  }
  return out;
}

std::string shape_str(const torch::Tensor &t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

} // namespace

void save_model(const std::string &path, PrnModelImpl &model, const Metadata &metadata) {
  c10::Dict<std::string, at::Tensor> tensors;
  for (const auto &item : model.named_parameters())
    tensors.insert(item.key(), item.value().detach().cpu().contiguous());
  for (const auto &item : model.named_buffers())
    tensors.insert(item.key(), item.value().detach().cpu().contiguous());
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("format", std::string(kModelFormat));
  root.insert("format_major", kModelFormatMajor);
  root.insert("format_minor", kModelFormatMinor);
  root.insert("config", to_dict(model.config().to_map()));
  root.insert("metadata", to_dict(metadata));
  root.insert("tensors", tensors);
  std::vector<char> bytes = torch::pickle_save(c10::IValue(root));
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

LoadedModel load_model(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  PRN_CHECK(in.good(), "cannot open model file '", path, "': no such file or not readable");
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PRN_CHECK(data.size() >= 4 && data[0] == 'P' && data[1] == 'K',
            "model file '", path, "' is not a prnanomaly model (not a zip archive; ", data.size(), " bytes)");
  c10::IValue root;
  try {
    root = torch::pickle_load(data);
  } catch (const c10::Error &e) {
    throw Error(detail::concat("model file '", path, "' is corrupt or truncated: ", e.what_without_backtrace()));
  } catch (const std::exception &e) {
    throw Error(detail::concat("model file '", path, "' is corrupt or truncated: ", e.what()));
  }
  PRN_CHECK(root.isGenericDict(), "model file '", path, "' is not a prnanomaly model (top level is a ",
            root.tagKind(), ")");
  auto dict = root.toGenericDict();
  auto field = [&](const char *key) -> c10::IValue {
    PRN_CHECK(dict.contains(key), "model file '", path, "' is not a prnanomaly model (no '", key, "' field)");
    return dict.at(key);
  };
  auto format = field("format");
  PRN_CHECK(format.isString() && format.toStringRef() == kModelFormat, "model file '", path,
            "' is not a prnanomaly model (format '", format.isString() ? format.toStringRef() : "?", "')");
  LoadedModel out;
  out.format_major = field("format_major").toInt();
  out.format_minor = field("format_minor").toInt();
  PRN_CHECK(out.format_major == kModelFormatMajor, "model file '", path, "' has format version ", out.format_major,
            ".", out.format_minor, "; this build reads version ", kModelFormatMajor, ".x: use a newer prnanomaly");
  ModelConfig config;
  try {
    config = ModelConfig::from_map(string_map(field("config"), path, "config"));
  } catch (const Error &e) {
    throw Error(detail::concat("model file '", path, "': ", e.what()));
  }
  out.metadata = string_map(field("metadata"), path, "metadata");
  auto tensors_iv = field("tensors");
  PRN_CHECK(tensors_iv.isGenericDict(), "model file '", path, "': field 'tensors' is not a dict");
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : tensors_iv.toGenericDict())
    if (item.key().isString() && item.value().isTensor())
      tensors[item.key().toStringRef()] = item.value().toTensor();

  out.model = PrnModel(config);
  auto &model = *out.model;
  torch::NoGradGuard no_grad;
  Scales prototypes;
  for (int s = 0; s < 3; ++s) {
    const std::string key = "prototypes" + std::to_string(s);
    PRN_CHECK(tensors.count(key), "model file '", path, "' has no ", key, " tensor");
    prototypes[s] = tensors.at(key);
  }
  try {
    model.set_prototypes(prototypes);
  } catch (const Error &e) {
    throw Error(detail::concat("model file '", path, "': ", e.what()));
  }
  auto load = [&](const std::string &key, torch::Tensor target) {
    if (key.rfind("prototypes", 0) == 0)
      return;
    auto it = tensors.find(key);
    PRN_CHECK(it != tensors.end(), "model file '", path, "' has no tensor '", key, "' required by its '",
              config.name, "' configuration");
    PRN_CHECK(it->second.sizes() == target.sizes(), "model file '", path, "': tensor '", key, "' has shape ",
              shape_str(it->second), ", expected ", shape_str(target));
    target.copy_(it->second.to(target.scalar_type()));
  };
  for (auto &item : model.named_parameters())
    load(item.key(), item.value());
  for (auto &item : model.named_buffers())
    load(item.key(), item.value());
  return out;
}

} // namespace prn
