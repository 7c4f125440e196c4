// prnanomaly core: camera pixel rows -> the RGB rows the model scores.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>

namespace prn::stream {

// Packed pixel layouts of camera rows (byte order in memory).
enum class PixelFormat { Gray8, Gray16LE, RGB, BGR, RGBx, BGRx, RGBA, BGRA };

// "GRAY8", "GRAY16_LE", "RGB", ... (GStreamer's names); throws prn::Error naming
// the accepted names otherwise.
PixelFormat pixel_format_from_name(const std::string &name);
const char *pixel_format_name(PixelFormat format);
int64_t bytes_per_pixel(PixelFormat format);
// Byte offsets of R, G and B within one pixel (grey: the same byte three times;
// GRAY16_LE: the high byte).
std::array<int64_t, 3> rgb_byte_offsets(PixelFormat format);

// Copies `rows` rows of `width` pixels, `stride` bytes apart, into a new
// (rows, width, 3) uint8 RGB tensor. Grey is replicated to the three channels;
// 16-bit grey keeps its high byte; padding/alpha bytes are ignored.
torch::Tensor rows_to_rgb8(const void *data, int64_t width, int64_t rows, int64_t stride, PixelFormat format);

} // namespace prn::stream
