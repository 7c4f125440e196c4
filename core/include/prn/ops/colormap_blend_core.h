// prnanomaly: the heatmap blend of the colormap_blend op, in plain C++ over raw
// pointers. This is the op's CPU twin itself, and the per-pixel functions here
// are the ones its CUDA kernel runs.
//
// Why a header and not a call into the core library: the GStreamer plugin
// prnline (prnoverlay) does not link LibTorch, and should not have to (it only
// reads metadata). Its painter includes this header (and colormap_lut.h), so
// prnoverlay and the op share one implementation without prnline linking the
// core. Nothing here depends on LibTorch or GLib.
//
// Semantics (prnoverlay's): with span = 1 - min_score, a heatmap cell with raw
// score s >= min_score gets LUT index i = round(min((s - min_score) / span, 1) * 255)
// (NaN and scores below min_score: not drawn), and i > 0 is blended with colour
// LUT[i] at weight w = round(alpha * i / 255 * 256) / 256:
//   channel = (channel * (256 - w) + colour * w + 128) >> 8.
// Frame pixel (x, y) reads heatmap column min(floor(x / scale_x), width - 1) and
// row y, or floor(y * heat_height / frame_height) when the heights differ.
// Nothing is drawn when span <= 0 (or NaN). Bytes other than R, G, B (x, alpha)
// are left as they are.
#pragma once

#include <math.h>

#include <cstdint>
#include <vector>

#if defined(__CUDACC__)
#define PRN_OPS_HD __host__ __device__
#else
#define PRN_OPS_HD
#endif

namespace prn::ops {

// A packed 8-bit RGB-family frame: `height` rows of `width` pixels of
// `pixel_stride` bytes, rows `stride` bytes apart; r, g, b: byte offsets of the
// components inside a pixel.
struct PackedFrame {
  uint8_t *data = nullptr;
  int64_t stride = 0;
  int64_t width = 0, height = 0;
  int pixel_stride = 0;
  int r = 0, g = 1, b = 2;
};

// Raw pixel scores, row-major (height, width); scale_x > 0 frame columns per
// heatmap column.
struct HeatmapView {
  const float *data = nullptr;
  int64_t width = 0, height = 0;
  double scale_x = 1.0;
};

struct BlendStyle {
  double min_score = 0.0;        // scores below it are not drawn
  double alpha = 0.5;            // opacity at score 1.0, in [0, 1]
  const uint8_t *lut = nullptr;  // 256 RGB triplets, cold to hot
};

// Heatmap column of frame column x.
PRN_OPS_HD inline int64_t heatmap_column(int64_t x, double scale_x, int64_t heat_width) {
  const double col = ::floor(static_cast<double>(x) / scale_x);
  const int64_t last = heat_width - 1;
  return col >= static_cast<double>(last) ? last : static_cast<int64_t>(col);
}

// Heatmap row of frame row y.
PRN_OPS_HD inline int64_t heatmap_row(int64_t y, int64_t frame_height, int64_t heat_height) {
  if (heat_height == frame_height)
    return y;
  const uint64_t row = static_cast<uint64_t>(y) * static_cast<uint64_t>(heat_height) /
                       static_cast<uint64_t>(frame_height);
  const uint64_t last = static_cast<uint64_t>(heat_height - 1);
  return static_cast<int64_t>(row < last ? row : last);
}

// LUT index of a cell with score s, or -1 when it is not drawn.
PRN_OPS_HD inline int lut_index(float score, double min_score, double span) {
  const double s = score;
  if (!(s >= min_score))
    return -1;
  const double t = (s - min_score) / span;
  return static_cast<int>(::lround((t < 1.0 ? t : 1.0) * 255.0));
}

// Blend weight (0..256) of LUT index i.
PRN_OPS_HD inline uint32_t blend_weight(double alpha, int i) {
  return static_cast<uint32_t>(::lround(alpha * i / 255.0 * 256.0));
}

// Blends `rgb` over the pixel `px` with weight w / 256 (w in 0..256).
PRN_OPS_HD inline void blend_pixel(uint8_t *px, const uint8_t *rgb, uint32_t w, int r, int g, int b) {
  const uint32_t iw = 256 - w;
  px[r] = static_cast<uint8_t>((px[r] * iw + rgb[0] * w + 128) >> 8);
  px[g] = static_cast<uint8_t>((px[g] * iw + rgb[1] * w + 128) >> 8);
  px[b] = static_cast<uint8_t>((px[b] * iw + rgb[2] * w + 128) >> 8);
}

// Whether a blend with this style can draw anything.
PRN_OPS_HD inline bool blend_draws(const BlendStyle &style) {
  const double span = 1.0 - style.min_score;
  return span > 0.0 && style.alpha > 0.0 && style.lut != nullptr;
}

// The CPU twin. Keeps its scratch space (one entry per frame column and per
// heatmap column) between calls; one instance per thread.
class HeatmapBlender {
public:
  // Maps the frame columns to heatmap columns (columns() afterwards).
  void map_columns(int64_t frame_width, double scale_x, int64_t heat_width) {
    columns_.resize(static_cast<size_t>(frame_width));
    for (int64_t x = 0; x < frame_width; x++)
      columns_[static_cast<size_t>(x)] = heatmap_column(x, scale_x, heat_width);
  }
  const std::vector<int64_t> &columns() const { return columns_; }

  // Blends `heat` into `frame` in place. Expects a non-empty heatmap and
  // scale_x > 0; nothing to do for an empty frame or when !blend_draws(style).
  void blend(const PackedFrame &frame, const HeatmapView &heat, const BlendStyle &style) {
    if (frame.width <= 0 || frame.height <= 0 || !blend_draws(style))
      return;
    map_columns(frame.width, heat.scale_x, heat.width);
    const double span = 1.0 - style.min_score;
    uint32_t weights[256];
    for (int i = 0; i < 256; i++)
      weights[i] = blend_weight(style.alpha, i);
    cells_.resize(static_cast<size_t>(heat.width));
    int64_t cached_row = -1;
    for (int64_t y = 0; y < frame.height; y++) {
      const int64_t row = heatmap_row(y, frame.height, heat.height);
      if (row != cached_row) {
        const float *src = heat.data + row * heat.width;
        for (int64_t j = 0; j < heat.width; j++)
          cells_[static_cast<size_t>(j)] = lut_index(src[j], style.min_score, span);
        cached_row = row;
      }
      uint8_t *line = frame.data + y * frame.stride;
      for (int64_t x = 0; x < frame.width; x++) {
        const int i = cells_[static_cast<size_t>(columns_[static_cast<size_t>(x)])];
        if (i > 0)
          blend_pixel(line + x * frame.pixel_stride, style.lut + 3 * i, weights[i], frame.r, frame.g, frame.b);
      }
    }
  }

private:
  std::vector<int64_t> columns_; // heatmap column of each frame column
  std::vector<int> cells_;       // LUT index of each cell of one heatmap row, -1: none
};

} // namespace prn::ops
