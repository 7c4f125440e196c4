#include "prn/stream/pixels.h"

#include "prn/error.h"

#include <array>
#include <cstring>

namespace prn::stream {

namespace {

struct FormatInfo {
  PixelFormat format;
  const char *name;
  int64_t bytes;
  std::array<int64_t, 3> rgb; // byte offsets of R, G, B within a pixel
};

constexpr std::array<FormatInfo, 8> kFormats{{
    {PixelFormat::Gray8, "GRAY8", 1, {0, 0, 0}},
    {PixelFormat::Gray16LE, "GRAY16_LE", 2, {1, 1, 1}}, // high byte
    {PixelFormat::RGB, "RGB", 3, {0, 1, 2}},
    {PixelFormat::BGR, "BGR", 3, {2, 1, 0}},
    {PixelFormat::RGBx, "RGBx", 4, {0, 1, 2}},
    {PixelFormat::BGRx, "BGRx", 4, {2, 1, 0}},
    {PixelFormat::RGBA, "RGBA", 4, {0, 1, 2}},
    {PixelFormat::BGRA, "BGRA", 4, {2, 1, 0}},
}};

const FormatInfo &info(PixelFormat f) {
  for (const FormatInfo &i : kFormats)
    if (i.format == f)
      return i;
  throw Error("pixel format: unknown enum value");
}

} // namespace

PixelFormat pixel_format_from_name(const std::string &name) {
  std::string names;
  for (const FormatInfo &i : kFormats) {
    if (name == i.name)
      return i.format;
    names += names.empty() ? i.name : std::string(", ") + i.name;
  }
  throw Error("pixel format: expected one of " + names + ", got '" + name + "'");
}

const char *pixel_format_name(PixelFormat format) { return info(format).name; }
int64_t bytes_per_pixel(PixelFormat format) { return info(format).bytes; }
std::array<int64_t, 3> rgb_byte_offsets(PixelFormat format) { return info(format).rgb; }

torch::Tensor rows_to_rgb8(const void *data, int64_t width, int64_t rows, int64_t stride, PixelFormat format) {
  const FormatInfo &f = info(format);
  PRN_CHECK(width >= 1 && rows >= 1, "rows_to_rgb8: expected width and rows >= 1, got ", width, "x", rows);
  PRN_CHECK(stride >= width * f.bytes, "rows_to_rgb8: expected a stride of at least ", width * f.bytes,
            " bytes for ", width, " ", f.name, " pixels, got ", stride);
  PRN_CHECK(data != nullptr, "rows_to_rgb8: no pixel data");
  // A strided uint8 view of the camera bytes (rows, width, bytes per pixel),
  // then one gather of the R, G, B bytes into a contiguous tensor.
  const torch::Tensor bytes = torch::from_blob(const_cast<void *>(data), {rows, width, f.bytes}, {stride, f.bytes, 1},
                                               torch::TensorOptions().dtype(torch::kUInt8));
  if (f.bytes == 1)
    return bytes.expand({rows, width, 3}).contiguous();
  if (f.rgb[0] == f.rgb[1] && f.rgb[1] == f.rgb[2])
    return bytes.narrow(2, f.rgb[0], 1).expand({rows, width, 3}).contiguous();
  if (f.rgb[0] == 0 && f.rgb[1] == 1 && f.rgb[2] == 2)
    return bytes.narrow(2, 0, 3).contiguous();
  return bytes.flip({2}).narrow(2, f.bytes - 3, 3).contiguous(); // BGR, BGRx, BGRA
}

} // namespace prn::stream
