// prnanomaly op: packed camera rows -> model input tiles, in one pass.
#pragma once

#include "prn/stream/pixels.h"

#include <ATen/ATen.h>

#include <cstdint>

namespace prn::ops {

// rows: (R, row_bytes) uint8 packed camera rows (R >= 1, row_bytes >= width *
// bytes per pixel of `format`; bytes past the pixels are ignored), on the CPU or
// a CUDA device. origins: (N, 2) int64 (row, column) of each tile's top-left
// pixel, on the same device. Tile n covers rows [row, row + tile) and columns
// [column, column + tile); pixels outside the rows or the width repeat the
// nearest edge pixel.
//
// Returns (N, 3, size, size) float32 RGB in [0, 1] on the rows' device: each
// tile decoded as prn::stream::rows_to_rgb8 does (grey to three channels,
// GRAY16_LE by its high byte), divided by 255 and resized tile -> size with
// F::interpolate's bilinear, align_corners=false, antialias=true (an exact copy
// when tile == size). Format conversion, crop, resize and scaling are one
// kernel, so only the packed bytes need to reach the device. CUDA tensors need
// a build with the CUDA kernels (see tile_ops_have_cuda()).
at::Tensor tiles_from_rows(const at::Tensor &rows, prn::stream::PixelFormat format, int64_t width,
                           const at::Tensor &origins, int64_t tile, int64_t size);

// True when the tile ops (tiles_from_rows, stitch_tiles_) were built with
// their CUDA kernels (-Dcuda found nvcc and a CUDA LibTorch).
bool tile_ops_have_cuda();

} // namespace prn::ops
