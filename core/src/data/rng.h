// Internal: the data generators' random numbers. splitmix64 with uniform,
// integer and normal draws: a fixed algorithm, so a seed gives the same data
// with every standard library (unlike std:: distributions).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace prn::data::detail {

struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform in [0, n), unbiased (rejection of the top remainder).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
      v = next();
    while (v >= limit);
    return v % n;
  }
  int64_t integer(int64_t lo, int64_t hi) { // [lo, hi]
    return std::min(hi, lo + static_cast<int64_t>(uniform() * static_cast<double>(hi - lo + 1)));
  }
  double normal() {
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
  }
};

} // namespace prn::data::detail
