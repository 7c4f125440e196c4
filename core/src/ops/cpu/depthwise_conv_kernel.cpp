// CPU kernel of the depthwise_conv2d op. Output channel o reads input channel
// o / M. Per output pixel and block of 64 (or 16) output channels, the kernel
// sums the valid taps in vectors of 16 floats held in registers: per tap, one
// load of 16 weights, one load of 16 / M input channels spread to 16 lanes
// (each repeated M times, a shuffle), one multiply-add; several vectors at once,
// so consecutive taps do not wait for each other. Then the bias and the
// residual are added in the output's own order. Vectors are GCC's vector
// extension, compiled for AVX-512, AVX2 and the baseline and chosen at load
// time (PRN_CPU_CLONES); M = 1, 2, 4 have vector code, other multipliers a
// scalar loop. Each output value is computed by one task in a fixed order: the
// result does not depend on the thread count.
#include "../depthwise_conv_kernels.h"

#include "internal/cpu_clones.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace prn::ops::detail {
namespace {

struct Geometry {
  int64_t H, W, C, M, k, stride, padding, Ho, Wo;
};

typedef float Lanes16 __attribute__((vector_size(64)));
typedef float Lanes8 __attribute__((vector_size(32)));
typedef float Lanes4 __attribute__((vector_size(16)));

// 16 lanes of weights; 16 / kM input channels, each repeated kM times.
#define PRN_LOAD16(dst, p) std::memcpy(&(dst), (p), sizeof(Lanes16))
template <int kM> __attribute__((always_inline)) inline void spread_inputs(Lanes16 &dst, const float *p) {
  if constexpr (kM == 1) {
    PRN_LOAD16(dst, p);
  } else if constexpr (kM == 2) {
    Lanes8 h;
    std::memcpy(&h, p, sizeof h);
    dst = __builtin_shufflevector(h, h, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  } else {
    static_assert(kM == 4, "vector code for M = 1, 2, 4 only");
    Lanes4 q;
    std::memcpy(&q, p, sizeof q);
    // Two doublings: one 4 -> 16 shuffle runs ten times slower with GCC 12.
    const Lanes8 h = __builtin_shufflevector(q, q, 0, 0, 1, 1, 2, 2, 3, 3);
    dst = __builtin_shufflevector(h, h, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  }
}

// Output channels [o0, o0 + 16 * kVectors) of one pixel: dst = sum over the
// `valid` taps (tap_offsets: pairs of tap index, input pixel offset) + bias +
// residual.
template <int kM, int kVectors>
__attribute__((always_inline)) inline void block(const float *__restrict__ taps, const float *__restrict__ image,
                                                 const int64_t *__restrict__ tap_offsets, int64_t valid, int64_t CM,
                                                 int64_t o0, const float *__restrict__ bias,
                                                 const float *__restrict__ residual, float *__restrict__ dst) {
  Lanes16 a[kVectors] = {};
  for (int64_t j = 0; j < valid; ++j) {
    const float *t = taps + tap_offsets[2 * j] * CM + o0;
    const float *px = image + tap_offsets[2 * j + 1] + o0 / kM;
    for (int v = 0; v < kVectors; ++v) {
      Lanes16 w, x;
      PRN_LOAD16(w, t + 16 * v);
      spread_inputs<kM>(x, px + 16 / kM * v);
      a[v] += w * x;
    }
  }
  for (int v = 0; v < kVectors; ++v) {
    if (bias != nullptr) {
      Lanes16 b;
      PRN_LOAD16(b, bias + o0 + 16 * v);
      a[v] += b;
    }
    if (residual != nullptr) {
      Lanes16 r;
      PRN_LOAD16(r, residual + o0 + 16 * v);
      a[v] += r;
    }
  }
  std::memcpy(dst + o0, a, sizeof a);
}

// Output rows [row_begin, row_end) of the flat (image, output row) range, for
// a multiplier kM (0: g.M at run time, scalar). taps: (k * k, C * M);
// tap_offsets: 2 * k * k.
template <int kM>
__attribute__((always_inline)) inline void conv_rows(const Geometry &g, const float *__restrict__ input,
                                                     const float *__restrict__ taps, const float *__restrict__ bias,
                                                     const float *__restrict__ residual, float *__restrict__ out,
                                                     int64_t row_begin, int64_t row_end,
                                                     int64_t *__restrict__ tap_offsets) {
  const int64_t M = kM > 0 ? kM : g.M, CM = g.C * M;
  for (int64_t row = row_begin; row < row_end; ++row) {
    const int64_t n = row / g.Ho, oy = row % g.Ho;
    const float *image = input + n * g.H * g.W * g.C;
    for (int64_t ox = 0; ox < g.Wo; ++ox) {
      int64_t valid = 0; // the taps inside the image
      for (int64_t ky = 0; ky < g.k; ++ky) {
        const int64_t iy = oy * g.stride + ky - g.padding;
        for (int64_t kx = 0; kx < g.k && iy >= 0 && iy < g.H; ++kx) {
          const int64_t ix = ox * g.stride + kx - g.padding;
          if (ix >= 0 && ix < g.W) {
            tap_offsets[2 * valid] = ky * g.k + kx;
            tap_offsets[2 * valid + 1] = (iy * g.W + ix) * g.C;
            ++valid;
          }
        }
      }
      const int64_t pixel = row * g.Wo + ox;
      float *dst = out + pixel * CM;
      const float *res = residual != nullptr ? residual + pixel * CM : nullptr;
      int64_t o0 = 0;
      if constexpr (kM > 0) {
        for (; o0 + 64 <= CM; o0 += 64)
          block<kM, 4>(taps, image, tap_offsets, valid, CM, o0, bias, res, dst);
        for (; o0 + 16 <= CM; o0 += 16)
          block<kM, 1>(taps, image, tap_offsets, valid, CM, o0, bias, res, dst);
      }
      for (int64_t o = o0; o < CM; ++o) {
        float a = 0.f;
        for (int64_t j = 0; j < valid; ++j)
          a += taps[tap_offsets[2 * j] * CM + o] * image[tap_offsets[2 * j + 1] + o / M];
        if (bias != nullptr)
          a += bias[o];
        dst[o] = res != nullptr ? a + res[o] : a;
      }
    }
  }
}

#define PRN_DEPTHWISE_ROWS(name, m)                                                                                  \
  PRN_CPU_CLONES void name(const Geometry &g, const float *input, const float *taps, const float *bias,              \
                           const float *residual, float *out, int64_t row_begin, int64_t row_end,                    \
                           int64_t *tap_offsets) {                                                                   \
    conv_rows<m>(g, input, taps, bias, residual, out, row_begin, row_end, tap_offsets);                              \
  }
PRN_DEPTHWISE_ROWS(conv_rows_m1, 1)
PRN_DEPTHWISE_ROWS(conv_rows_m2, 2)
PRN_DEPTHWISE_ROWS(conv_rows_m4, 4)
PRN_DEPTHWISE_ROWS(conv_rows_any, 0)
#undef PRN_DEPTHWISE_ROWS
#undef PRN_LOAD16

} // namespace

at::Tensor depthwise_conv2d_cpu(const at::Tensor &input, const at::Tensor &weight_taps, const at::Tensor &bias,
                                int64_t multiplier, int64_t k, int64_t stride, int64_t padding,
                                const at::Tensor &residual) {
  const int64_t B = input.size(0);
  Geometry g{input.size(2), input.size(3), input.size(1), multiplier, k, stride, padding, 0, 0};
  g.Ho = (g.H + 2 * padding - k) / stride + 1;
  g.Wo = (g.W + 2 * padding - k) / stride + 1;
  const int64_t CM = g.C * multiplier;
  auto out = at::empty({B, CM, g.Ho, g.Wo}, input.options().memory_format(at::MemoryFormat::ChannelsLast));
  if (out.numel() == 0)
    return out;
  const float *in = input.data_ptr<float>();
  const float *taps = weight_taps.data_ptr<float>();
  const float *b = bias.defined() ? bias.data_ptr<float>() : nullptr;
  const float *res = residual.defined() ? residual.data_ptr<float>() : nullptr;
  float *o = out.data_ptr<float>();
  const auto rows = multiplier == 1   ? conv_rows_m1
                    : multiplier == 2 ? conv_rows_m2
                    : multiplier == 4 ? conv_rows_m4
                                      : conv_rows_any;
  const int64_t per_row = std::max<int64_t>(1, g.Wo * k * k * CM);
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / per_row);
  at::parallel_for(0, B * g.Ho, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> tap_offsets(static_cast<size_t>(2 * k * k));
    rows(g, in, taps, b, res, o, begin, end, tap_offsets.data());
  });
  return out;
}

} // namespace prn::ops::detail
