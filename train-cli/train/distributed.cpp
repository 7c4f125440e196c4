#include "distributed.h"

#include "prn/error.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <functional>

namespace prn::train {
namespace {

std::optional<std::string> env(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? std::optional<std::string>(v) : std::nullopt;
}

int to_int(const std::string &text, const std::string &what) {
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  PRN_CHECK(used == text.size() && used > 0, what, ": expected an integer, got '", text, "'");
  return v;
}

bool is_loopback(const std::string &addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

constexpr int64_t kBucketBytes = 25 << 20; // as torch's DistributedDataParallel

// Runs `collective` on flat buckets of the tensors (grouped by dtype and
// device, in order) and copies the results back into them.
void bucketed(std::vector<torch::Tensor> &tensors, const std::function<void(torch::Tensor &)> &collective) {
  size_t i = 0;
  while (i < tensors.size()) {
    std::vector<torch::Tensor> flat;
    int64_t bytes = 0;
    size_t j = i;
    for (; j < tensors.size(); ++j) {
      const auto &t = tensors[j];
      if (j > i && (t.scalar_type() != tensors[i].scalar_type() || t.device() != tensors[i].device() ||
                    bytes + t.nbytes() > kBucketBytes))
        break;
      flat.push_back(t.detach().reshape({-1}));
      bytes += static_cast<int64_t>(t.nbytes());
    }
    auto bucket = flat.size() == 1 ? flat[0].contiguous().clone() : torch::cat(flat);
    collective(bucket);
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = tensors[k].numel();
      tensors[k].detach().copy_(bucket.narrow(0, offset, n).view(tensors[k].sizes()));
      offset += n;
    }
    i = j;
  }
}

} // namespace

DistConfig resolve_dist_config(const DistOptions &options) {
  DistConfig c;
  if (auto v = env("WORLD_SIZE"))
    c.world_size = to_int(*v, "environment variable WORLD_SIZE");
  if (auto v = env("RANK"))
    c.rank = to_int(*v, "environment variable RANK");
  if (auto v = env("LOCAL_RANK"))
    c.local_rank = to_int(*v, "environment variable LOCAL_RANK");
  else
    c.local_rank = c.rank;
  if (auto v = env("MASTER_ADDR"))
    c.master_addr = *v;
  if (auto v = env("MASTER_PORT"))
    c.master_port = to_int(*v, "environment variable MASTER_PORT");
  if (env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True") {
    c.agent_store = true;
    c.store_prefix = "/worker/attempt_" + env("TORCHELASTIC_RESTART_COUNT").value_or("0");
  }
  if (options.world_size)
    c.world_size = *options.world_size;
  if (options.rank) {
    c.rank = *options.rank;
    if (!options.local_rank && !env("LOCAL_RANK"))
      c.local_rank = c.rank;
  }
  if (options.local_rank)
    c.local_rank = *options.local_rank;
  if (options.master) {
    const auto colon = options.master->rfind(':');
    PRN_CHECK(colon != std::string::npos && colon > 0, "--master: expected ADDR:PORT, got '", *options.master, "'");
    c.master_addr = options.master->substr(0, colon);
    c.master_port = to_int(options.master->substr(colon + 1), "--master port");
    c.agent_store = false; // an explicit rendezvous: rank 0 hosts the store
    c.store_prefix.clear();
  }
  PRN_CHECK(c.world_size >= 1, "world size (--world-size or WORLD_SIZE): expected >= 1, got ", c.world_size);
  PRN_CHECK(c.rank >= 0 && c.rank < c.world_size, "rank (--rank or RANK): expected 0 to ", c.world_size - 1,
            " for a world size of ", c.world_size, ", got ", c.rank);
  PRN_CHECK(c.local_rank >= 0, "local rank (--local-rank or LOCAL_RANK): expected >= 0, got ", c.local_rank);
  PRN_CHECK(c.master_port >= 1 && c.master_port <= 65535, "master port (--master or MASTER_PORT): expected 1 to 65535, got ",
            c.master_port);
  return c;
}

torch::Device process_device(const std::string &requested, const DistConfig &config) {
  torch::Device device(requested);
  if (device.is_cuda() && !device.has_index() && config.world_size > 1)
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(config.local_rank));
  return device;
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

ProcessGroup::ProcessGroup(const DistConfig &config, const torch::Device &device)
    : impl_(std::make_unique<Impl>()), rank_(config.rank), world_size_(config.world_size), device_(device) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(config.master_port);
  so.isServer = !config.agent_store && config.rank == 0;
  so.numWorkers = config.agent_store ? std::nullopt : std::optional<std::size_t>(config.world_size);
  so.waitWorkers = !config.agent_store;
  so.timeout = config.timeout;
  try {
    c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(config.master_addr, so);
    if (!config.store_prefix.empty())
      tcp = c10::make_intrusive<c10d::PrefixStore>(config.store_prefix, tcp);
    impl_->store = c10::make_intrusive<c10d::PrefixStore>("prn-train", tcp);
    if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
      c10::cuda::set_device(device.index());
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = config.timeout;
      impl_->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, rank_, world_size_, opts);
#else
      throw Error("data-parallel training on CUDA needs NCCL, and this prn-train was built without it (no CUDA, or no "
                  "NCCL headers beside LibTorch: see the meson warning)");
#endif
    } else {
      auto opts = c10d::ProcessGroupGloo::Options::create(config.timeout);
      // As torch.distributed: GLOO_SOCKET_IFNAME names the interface; else the
      // loopback for a local run, else the address this host's name resolves to.
      if (auto ifname = env("GLOO_SOCKET_IFNAME"))
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
      else if (is_loopback(config.master_addr))
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      impl_->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank_, world_size_, opts);
    }
  } catch (const c10::Error &e) {
    throw Error(detail::concat("rank ", rank_, " of ", world_size_, ": cannot join the run at ", config.master_addr,
                               ":", config.master_port, " (", device.is_cuda() ? "nccl" : "gloo",
                               "): ", e.what_without_backtrace()));
  }
}

ProcessGroup::~ProcessGroup() = default;

std::string ProcessGroup::backend_name() const { return impl_->backend->getBackendName(); }

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor> &tensors) {
  bucketed(tensors, [&](torch::Tensor &bucket) {
    std::vector<at::Tensor> v{bucket};
    impl_->backend->allreduce(v)->wait();
  });
}

void ProcessGroup::broadcast(std::vector<torch::Tensor> &tensors, int root) {
  PRN_CHECK(root >= 0 && root < world_size_, "broadcast: expected a root rank in [0, ", world_size_, "), got ", root);
  bucketed(tensors, [&](torch::Tensor &bucket) {
    std::vector<at::Tensor> v{bucket};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    impl_->backend->broadcast(v, o)->wait();
  });
}

bool ProcessGroup::any(bool flag) {
  std::vector<torch::Tensor> t{torch::full({1}, flag ? 1.0f : 0.0f, torch::TensorOptions(device_))};
  all_reduce_sum(t);
  return t[0].item<float>() > 0;
}

} // namespace prn::train
