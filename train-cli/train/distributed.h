// prn-train's data-parallel runs: the process group (torch.distributed's c10d,
// Gloo on the CPU, NCCL on CUDA) behind the core's prn::Reducer interface.
#pragma once

#include "prn/reducer.h"

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace prn::train {

// Where a process stands in a data-parallel run. torchrun's environment
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE) fills it; options override.
struct DistConfig {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;   // torchrun's agent hosts the rendezvous store (else rank 0 does)
  std::string store_prefix;   // torchrun: "/worker/attempt_N"
  std::chrono::seconds timeout{1800};
};

// Options given on the command line (unset: torchrun's environment, then the defaults).
struct DistOptions {
  std::optional<int> rank, world_size, local_rank;
  std::optional<std::string> master; // ADDR:PORT
};

// The environment and the options together, validated (prn::Error naming the
// variable or option and the value otherwise).
DistConfig resolve_dist_config(const DistOptions &options);

// The device a process trains on: `requested` (cpu, cuda, cuda:N); plain
// "cuda" in a run of several processes means cuda:LOCAL_RANK.
torch::Device process_device(const std::string &requested, const DistConfig &config);

// A connected process group. Collectives are bucketed: tensors of one dtype
// and device are flattened into buckets of up to 25 MiB, one collective each.
class ProcessGroup : public Reducer {
public:
  // Joins the run (rendezvous over TCP at master_addr:master_port); Gloo for
  // CPU tensors, NCCL for CUDA ones (when built with CUDA).
  ProcessGroup(const DistConfig &config, const torch::Device &device);
  ~ProcessGroup() override;
  ProcessGroup(const ProcessGroup &) = delete;
  ProcessGroup &operator=(const ProcessGroup &) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }
  void all_reduce_sum(std::vector<torch::Tensor> &tensors) override;
  void broadcast(std::vector<torch::Tensor> &tensors, int root) override;
  // Whether `flag` is true on any process (an all-reduce of one number).
  bool any(bool flag);
  std::string backend_name() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_, world_size_;
  torch::Device device_;
};

} // namespace prn::train
