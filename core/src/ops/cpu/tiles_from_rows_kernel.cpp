// CPU kernel of tiles_from_rows: per tile, a horizontal then a vertical
// antialiased pass (ATen's order for float), reading the packed bytes directly.
#include "../resize_math.h"
#include "../tiles_from_rows_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <array>
#include <vector>

namespace prn::ops::detail {
namespace {

// The taps of every output index of one axis: first input index, tap count,
// and max_taps weights each.
struct AaTable {
  std::vector<int64_t> start, count;
  std::vector<float> w;
  int64_t taps;
};

AaTable aa_table(int64_t in_size, int64_t out_size) {
  const AaParams p = aa_params(in_size, out_size);
  AaTable t{std::vector<int64_t>(out_size), std::vector<int64_t>(out_size),
            std::vector<float>(static_cast<size_t>(out_size * p.max_taps), 0.f), p.max_taps};
  for (int64_t i = 0; i < out_size; ++i)
    t.count[i] = aa_weights(i, in_size, p, &t.w[i * p.max_taps], t.start[i]);
  return t;
}

} // namespace

at::Tensor tiles_from_rows_cpu(const at::Tensor &rows, const PackedLayout &layout, int64_t width,
                               const at::Tensor &origins, int64_t tile, int64_t size) {
  const int64_t R = rows.size(0), pitch = rows.size(1), N = origins.size(0), T = tile, S = size;
  const AaTable ax = aa_table(T, S);
  auto out = at::empty({N, 3, S, S}, rows.options().dtype(at::kFloat));
  const uint8_t *src = rows.data_ptr<uint8_t>();
  const int64_t *org = origins.data_ptr<int64_t>();
  float *dst = out.data_ptr<float>();
  std::array<float, 256> value{};
  for (int b = 0; b < 256; ++b)
    value[b] = static_cast<float>(b) / 255.f;
  const int64_t bpp = layout.bytes_per_pixel, o0 = layout.rgb[0], o1 = layout.rgb[1], o2 = layout.rgb[2];

  at::parallel_for(0, N, 1, [&](int64_t n0, int64_t n1) {
    std::vector<float> tmp(static_cast<size_t>(T * S * 3)); // tile rows x output columns x RGB
    std::vector<int64_t> column(static_cast<size_t>(T));     // byte offset of each tile column
    for (int64_t n = n0; n < n1; ++n) {
      const int64_t oy = org[2 * n], ox = org[2 * n + 1];
      for (int64_t tx = 0; tx < T; ++tx)
        column[tx] = clamp_index(ox + tx, width) * bpp;
      for (int64_t ty = 0; ty < T; ++ty) { // horizontal: T x T -> T x S
        const uint8_t *line = src + clamp_index(oy + ty, R) * pitch;
        float *h = &tmp[ty * S * 3];
        for (int64_t o = 0; o < S; ++o) {
          const float *w = &ax.w[o * ax.taps];
          const int64_t *col = &column[ax.start[o]];
          float r = 0.f, g = 0.f, b = 0.f;
          for (int64_t k = 0; k < ax.count[o]; ++k) {
            const uint8_t *p = line + col[k];
            r += value[p[o0]] * w[k];
            g += value[p[o1]] * w[k];
            b += value[p[o2]] * w[k];
          }
          h[3 * o] = r;
          h[3 * o + 1] = g;
          h[3 * o + 2] = b;
        }
      }
      float *plane = dst + n * 3 * S * S;
      for (int64_t oy2 = 0; oy2 < S; ++oy2) { // vertical: T x S -> S x S
        const float *w = &ax.w[oy2 * ax.taps];
        const float *first = &tmp[ax.start[oy2] * S * 3];
        for (int64_t o = 0; o < S; ++o) {
          float r = 0.f, g = 0.f, b = 0.f;
          for (int64_t j = 0; j < ax.count[oy2]; ++j) {
            const float *h = first + (j * S + o) * 3;
            r += h[0] * w[j];
            g += h[1] * w[j];
            b += h[2] * w[j];
          }
          plane[oy2 * S + o] = r;
          plane[S * S + oy2 * S + o] = g;
          plane[2 * S * S + oy2 * S + o] = b;
        }
      }
    }
  });
  return out;
}

} // namespace prn::ops::detail
