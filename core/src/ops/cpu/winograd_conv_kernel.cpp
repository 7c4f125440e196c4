// CPU kernel of the winograd_conv3x3 op, F(4x4, 3x3). The output is cut into
// tiles of 4x4 pixels (T = B * ceil(H / 4) * ceil(W / 4)); tiles are handled in
// blocks of kBlockTiles, each in three steps:
//   1. input transform: per tile, the 6x6 input block around it (zeros outside
//      the image) -> V[36][tile][C] = B^T d B, 16 channels per vector;
//   2. 36 matrix products M[p] = V[p] (tiles x C) x U[p] (C x K), one at::bmm
//      (MKL, on LibTorch's threads);
//   3. output transform: per tile, Y = A^T m A + bias for the tile's pixels
//      inside the image.
// Steps 1 and 3 split the block's tiles over the threads; each value is
// computed by one thread in a fixed order, the matrix products are MKL's. A
// block of 60 tiles keeps V and M in the L2/L3 caches (553 KiB each at 64
// channels) and its rows off the 4 KiB strides that made the transform 2-4x
// slower at 64 tiles in this project's measurements. Vectors are GCC's vector
// extension, compiled for AVX-512, AVX2 and the baseline (PRN_CPU_CLONES).
#include "../winograd_conv_kernels.h"

#include "internal/cpu_clones.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace prn::ops::detail {
namespace {

constexpr int64_t kBlockTiles = 60;

typedef float Lanes16 __attribute__((vector_size(64)));

struct WinogradGeometry {
  int64_t H, W, C, K, tiles_y, tiles_x;
};

// Unaligned 16-float loads and stores (macros: a function returning a vector
// would be compiled for the baseline ABI).
#define PRN_WINOGRAD_LOAD(dst, p) std::memcpy(&(dst), (p), sizeof(Lanes16))
#define PRN_WINOGRAD_STORE(p, src) std::memcpy((p), &(src), sizeof(Lanes16))

// r = B^T (a0 .. a5) of F(4x4, 3x3).
#define PRN_WINOGRAD_BT(a0, a1, a2, a3, a4, a5, r)                                                                   \
  do {                                                                                                               \
    r[0] = 4 * (a0) - 5 * (a2) + (a4);                                                                               \
    r[1] = -4 * ((a1) + (a2)) + (a3) + (a4);                                                                         \
    r[2] = 4 * ((a1) - (a2)) - (a3) + (a4);                                                                          \
    r[3] = 2 * ((a3) - (a1)) - (a2) + (a4);                                                                          \
    r[4] = 2 * ((a1) - (a3)) - (a2) + (a4);                                                                          \
    r[5] = 4 * (a1) - 5 * (a3) + (a5);                                                                               \
  } while (0)

// r = A^T (a0 .. a5) of F(4x4, 3x3).
#define PRN_WINOGRAD_AT(a0, a1, a2, a3, a4, a5, r)                                                                   \
  do {                                                                                                               \
    r[0] = (a0) + (a1) + (a2) + (a3) + (a4);                                                                         \
    r[1] = (a1) - (a2) + 2 * ((a3) - (a4));                                                                          \
    r[2] = (a1) + (a2) + 4 * ((a3) + (a4));                                                                          \
    r[3] = (a1) - (a2) + 8 * ((a3) - (a4)) + (a5);                                                                   \
  } while (0)

// Tiles [t0, t1) of the block starting at tile `first`: V[p][t - first][c],
// p_stride floats from one p to the next; `zeros` (C floats) stands for the
// padding.
PRN_CPU_CLONES void input_transform(const WinogradGeometry &g, const float *x, const float *zeros, int64_t first,
                                    int64_t t0, int64_t t1, float *v, int64_t p_stride) {
  const float *d[36];
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t per_image = g.tiles_y * g.tiles_x;
    const int64_t n = t / per_image, ty = t % per_image / g.tiles_x, tx = t % g.tiles_x;
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 6; ++j) {
        const int64_t yy = ty * 4 - 1 + i, xx = tx * 4 - 1 + j;
        d[i * 6 + j] =
            (yy >= 0 && yy < g.H && xx >= 0 && xx < g.W) ? x + ((n * g.H + yy) * g.W + xx) * g.C : zeros;
      }
    float *out = v + (t - first) * g.C;
    for (int64_t c = 0; c < g.C; c += 16) {
      Lanes16 m[6][6];
      for (int j = 0; j < 6; ++j) {
        Lanes16 a[6], r[6];
        for (int i = 0; i < 6; ++i)
          PRN_WINOGRAD_LOAD(a[i], d[i * 6 + j] + c);
        PRN_WINOGRAD_BT(a[0], a[1], a[2], a[3], a[4], a[5], r);
        for (int i = 0; i < 6; ++i)
          m[i][j] = r[i];
      }
      for (int i = 0; i < 6; ++i) {
        Lanes16 r[6];
        PRN_WINOGRAD_BT(m[i][0], m[i][1], m[i][2], m[i][3], m[i][4], m[i][5], r);
        for (int j = 0; j < 6; ++j)
          PRN_WINOGRAD_STORE(out + (i * 6 + j) * p_stride + c, r[j]);
      }
    }
  }
}

// Tiles [t0, t1) of the block starting at `first`, from M[p][t - first][k];
// pixels outside the image go to `discard` (K floats).
PRN_CPU_CLONES void output_transform(const WinogradGeometry &g, const float *mat, int64_t p_stride, const float *bias,
                                     int64_t first, int64_t t0, int64_t t1, float *y, float *discard) {
  float *o[16];
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t per_image = g.tiles_y * g.tiles_x;
    const int64_t n = t / per_image, ty = t % per_image / g.tiles_x, tx = t % g.tiles_x;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        const int64_t yy = ty * 4 + i, xx = tx * 4 + j;
        o[i * 4 + j] = (yy < g.H && xx < g.W) ? y + ((n * g.H + yy) * g.W + xx) * g.K : discard;
      }
    const float *m = mat + (t - first) * g.K;
    for (int64_t k = 0; k < g.K; k += 16) {
      Lanes16 s[4][6];
      for (int j = 0; j < 6; ++j) {
        Lanes16 a[6], r[4];
        for (int i = 0; i < 6; ++i)
          PRN_WINOGRAD_LOAD(a[i], m + (i * 6 + j) * p_stride + k);
        PRN_WINOGRAD_AT(a[0], a[1], a[2], a[3], a[4], a[5], r);
        for (int i = 0; i < 4; ++i)
          s[i][j] = r[i];
      }
      Lanes16 b;
      PRN_WINOGRAD_LOAD(b, bias + k);
      for (int i = 0; i < 4; ++i) {
        Lanes16 r[4];
        PRN_WINOGRAD_AT(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], r);
        for (int j = 0; j < 4; ++j) {
          const Lanes16 sum = r[j] + b;
          PRN_WINOGRAD_STORE(o[i * 4 + j] + k, sum);
        }
      }
    }
  }
}

} // namespace

at::Tensor winograd_conv3x3_cpu(const at::Tensor &input, const at::Tensor &transformed, const at::Tensor &bias) {
  WinogradGeometry g{};
  const int64_t B = input.size(0);
  g.C = input.size(1);
  g.H = input.size(2);
  g.W = input.size(3);
  g.K = transformed.size(2);
  g.tiles_y = (g.H + 3) / 4;
  g.tiles_x = (g.W + 3) / 4;
  const int64_t tiles = B * g.tiles_y * g.tiles_x;
  const int64_t block = std::min(kBlockTiles, tiles);

  auto y = at::empty({B, g.K, g.H, g.W}, input.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto v_storage = at::empty({36 * block * g.C}, input.options());
  auto m_storage = at::empty({36 * block * g.K}, input.options());
  const std::vector<float> zeros(static_cast<size_t>(g.C), 0.0f);
  const float *x = input.const_data_ptr<float>();
  const float *b = bias.const_data_ptr<float>();
  float *out = y.mutable_data_ptr<float>();
  float *v = v_storage.mutable_data_ptr<float>();
  const float *m = m_storage.const_data_ptr<float>();

  for (int64_t first = 0; first < tiles; first += block) {
    const int64_t n = std::min(block, tiles - first);
    // V and M of this block are contiguous (36, n, C) and (36, n, K) tensors.
    at::parallel_for(first, first + n, 1, [&](int64_t t0, int64_t t1) {
      input_transform(g, x, zeros.data(), first, t0, t1, v, n * g.C);
    });
    auto mat = m_storage.narrow(0, 0, 36 * n * g.K).view({36, n, g.K});
    at::bmm_out(mat, v_storage.narrow(0, 0, 36 * n * g.C).view({36, n, g.C}), transformed);
    at::parallel_for(first, first + n, 1, [&](int64_t t0, int64_t t1) {
      std::vector<float> discard(static_cast<size_t>(g.K));
      output_transform(g, m, n * g.K, b, first, t0, t1, out, discard.data());
    });
  }
  return y;
}

} // namespace prn::ops::detail
