#include "checkpoint.h"

#include "prn/error.h"
#include "prn/state_dict.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace prn::train {
namespace {

constexpr const char *kMagic = "prnanomaly-checkpoint-1";

std::string encode(const std::map<std::string, std::string> &m) {
  std::string s;
  for (const auto &[k, v] : m)
    s += k + "=" + v + "\n";
  return s;
}

std::map<std::string, std::string> decode(const std::string &s) {
  std::map<std::string, std::string> m;
  std::stringstream ss(s);
  std::string line;
  while (std::getline(ss, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos)
      m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

torch::Tensor text_tensor(const std::string &s) {
  auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

std::string tensor_text(const torch::Tensor &t) {
  auto c = t.contiguous();
  return std::string(static_cast<const char *>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

void open_archive(const std::string &path, torch::serialize::InputArchive &archive) {
  std::ifstream in(path, std::ios::binary);
  PRN_CHECK(in.good(), "cannot open checkpoint '", path, "'");
  try {
    archive.load_from(in);
  } catch (const c10::Error &e) {
    throw Error(detail::concat("checkpoint '", path, "' is corrupt or truncated: ", e.what_without_backtrace()));
  }
}

CheckpointInfo read_info(torch::serialize::InputArchive &archive, const std::string &path) {
  torch::Tensor magic, step, run;
  try {
    archive.read("magic", magic);
    archive.read("step", step);
    archive.read("run", run);
  } catch (const c10::Error &) {
    throw Error(detail::concat("'", path, "' is not a prn-train checkpoint"));
  }
  PRN_CHECK(tensor_text(magic) == kMagic, "'", path, "' is not a prn-train checkpoint of this version");
  CheckpointInfo info;
  info.step = step.item<int64_t>();
  info.run = decode(tensor_text(run));
  return info;
}

} // namespace

void save_checkpoint(const std::string &path, PrnModelImpl &model, torch::optim::Optimizer &optimizer,
                     const CheckpointInfo &info) {
  torch::serialize::OutputArchive archive;
  archive.write("magic", text_tensor(kMagic));
  archive.write("step", torch::tensor(info.step, torch::kInt64));
  archive.write("run", text_tensor(encode(info.run)));
  torch::serialize::OutputArchive model_archive, optim_archive;
  model.save(model_archive);
  optimizer.save(optim_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optim_archive);
  std::ostringstream out;
  archive.save_to(out);
  write_file_atomic(path, out.str());
}

CheckpointInfo read_checkpoint_info(const std::string &path) {
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  return read_info(archive, path);
}

CheckpointInfo load_checkpoint(const std::string &path, PrnModelImpl &model, torch::optim::Optimizer &optimizer,
                               const std::map<std::string, std::string> &expected_run) {
  torch::serialize::InputArchive archive;
  open_archive(path, archive);
  CheckpointInfo info = read_info(archive, path);
  for (const auto &[k, v] : expected_run) {
    auto it = info.run.find(k);
    PRN_CHECK(it != info.run.end() && it->second == v, "checkpoint '", path, "' belongs to another run: its ", k,
              " is '", it == info.run.end() ? std::string("(none)") : it->second, "', this run's is '", v, "'");
  }
  for (const auto &[k, v] : info.run) // a setting only the checkpoint's run had (e.g. --lr-schedule cosine)
    PRN_CHECK(expected_run.count(k) != 0, "checkpoint '", path, "' belongs to another run: its ", k, " is '", v,
              "', this run has none");
  torch::serialize::InputArchive model_archive, optim_archive;
  try {
    archive.read("model", model_archive);
    archive.read("optimizer", optim_archive);
    model.load(model_archive);
    optimizer.load(optim_archive);
  } catch (const c10::Error &e) {
    throw Error(detail::concat("checkpoint '", path, "' does not fit this model: ", e.what_without_backtrace()));
  }
  return info;
}

} // namespace prn::train
