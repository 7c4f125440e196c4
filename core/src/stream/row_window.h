// A growable window of consecutive rows, indexed by absolute (web) row: rows are
// appended at the end and dropped at the front without copying on every call
// (the storage is compacted or doubled when full). The storage lives on one
// device (CPU or CUDA).
#pragma once

#include "prn/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace prn::stream {

class RowWindow {
public:
  RowWindow() = default;
  // row_shape: the shape of one row; rows start at web row `base`.
  RowWindow(std::vector<int64_t> row_shape, torch::ScalarType dtype, int64_t base = 0,
            torch::Device device = torch::kCPU)
      : shape_(std::move(row_shape)), dtype_(dtype), device_(device), base_(base) {}

  int64_t base() const { return base_; }
  int64_t end() const { return base_ + count_; }

  // Appends (n, row_shape...) rows, from any device; non_blocking: an
  // asynchronous upload when `rows` is in pinned host memory.
  void append(const torch::Tensor &rows, bool non_blocking = false) {
    const int64_t n = rows.size(0);
    reserve(n);
    buf_.narrow(0, start_ + count_, n).copy_(rows, non_blocking);
    count_ += n;
  }
  // Appends n rows filled with `value`.
  void append_filled(int64_t n, double value) {
    reserve(n);
    buf_.narrow(0, start_ + count_, n).fill_(value);
    count_ += n;
  }
  // A view of web rows [from, to); valid until the next append.
  torch::Tensor rows(int64_t from, int64_t to) const {
    PRN_CHECK(from >= base_ && to <= end() && from <= to, "RowWindow: rows [", from, ", ", to,
              ") outside the window [", base_, ", ", end(), ")");
    return buf_.narrow(0, start_ + (from - base_), to - from);
  }
  // Forgets the rows before web row `row`.
  void drop_before(int64_t row) {
    const int64_t n = std::clamp<int64_t>(row - base_, 0, count_);
    start_ += n;
    count_ -= n;
    base_ += n;
  }

private:
  void reserve(int64_t n) {
    const int64_t capacity = buf_.defined() ? buf_.size(0) : 0;
    if (start_ + count_ + n <= capacity)
      return;
    const int64_t need = count_ + n;
    std::vector<int64_t> shape{std::max<int64_t>(need, 2 * capacity)};
    if (need <= capacity)
      shape[0] = capacity; // compacting is enough
    shape.insert(shape.end(), shape_.begin(), shape_.end());
    torch::Tensor next = shape[0] == capacity ? buf_ : torch::empty(shape, torch::TensorOptions().dtype(dtype_).device(device_));
    if (count_ > 0) {
      const torch::Tensor live = buf_.narrow(0, start_, count_);
      // Overlapping move within the same storage: go through a copy.
      next.narrow(0, 0, count_).copy_(next.is_same(buf_) ? live.clone() : live);
    }
    buf_ = next;
    start_ = 0;
  }

  std::vector<int64_t> shape_;
  torch::ScalarType dtype_ = torch::kFloat32;
  torch::Device device_ = torch::kCPU;
  torch::Tensor buf_;
  int64_t base_ = 0, start_ = 0, count_ = 0;
};

} // namespace prn::stream
