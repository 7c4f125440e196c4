// Where the bytes of a packed pixel are, for the ops that read or write packed
// camera rows and frames (tiles_from_rows, colormap_blend); plain data, so the
// CUDA kernels take it as an argument.
#pragma once

#include <cstdint>

namespace prn::stream {
enum class PixelFormat;
} // namespace prn::stream

namespace prn::ops::detail {

// Bytes per pixel, and the byte offsets of R, G and B within a pixel.
struct PackedLayout {
  int64_t bytes_per_pixel;
  int64_t rgb[3];
};

// The layout of `format` (prn/stream/pixels.h: grey gives one offset three times).
PackedLayout packed_layout_of(prn::stream::PixelFormat format);

} // namespace prn::ops::detail
