// Camera pixel rows -> RGB rows, for every format the element accepts.
#include "prn/stream/pixels.h"
#include "test_util.h"

#include <vector>

using prn::stream::PixelFormat;
using prn::stream::rows_to_rgb8;

namespace {

// Two rows of three pixels, with `pad` bytes of stride padding per row; pixel
// (r, c) has R = 10 * r + c + 1, G = R + 100, B = R + 200 (grey: R).
std::vector<uint8_t> make(PixelFormat f, int64_t pad, int64_t &stride) {
  const int64_t bpp = prn::stream::bytes_per_pixel(f);
  stride = 3 * bpp + pad;
  std::vector<uint8_t> b(2 * stride, 0xEE);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) {
      uint8_t *p = b.data() + r * stride + c * bpp;
      const uint8_t R = 10 * r + c + 1, G = R + 100, B = R + 200;
      switch (f) {
      case PixelFormat::Gray8: p[0] = R; break;
      case PixelFormat::Gray16LE: p[0] = 0x55, p[1] = R; break;
      case PixelFormat::RGB: p[0] = R, p[1] = G, p[2] = B; break;
      case PixelFormat::BGR: p[0] = B, p[1] = G, p[2] = R; break;
      case PixelFormat::RGBx: case PixelFormat::RGBA: p[0] = R, p[1] = G, p[2] = B, p[3] = 7; break;
      case PixelFormat::BGRx: case PixelFormat::BGRA: p[0] = B, p[1] = G, p[2] = R, p[3] = 7; break;
      }
    }
  return b;
}

} // namespace

TEST(StreamPixels, EveryFormatGivesRgbRowsIgnoringStridePadding) {
  for (const char *name : {"GRAY8", "GRAY16_LE", "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA"}) {
    const PixelFormat f = prn::stream::pixel_format_from_name(name);
    EXPECT_STREQ(prn::stream::pixel_format_name(f), name);
    const bool grey = f == PixelFormat::Gray8 || f == PixelFormat::Gray16LE;
    int64_t stride = 0;
    const std::vector<uint8_t> bytes = make(f, 5, stride);
    const torch::Tensor rgb = rows_to_rgb8(bytes.data(), 3, 2, stride, f);
    ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{2, 3, 3})) << name;
    ASSERT_TRUE(rgb.is_contiguous());
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) {
        const int R = 10 * r + c + 1;
        EXPECT_EQ(rgb[r][c][0].item<int>(), R) << name;
        EXPECT_EQ(rgb[r][c][1].item<int>(), grey ? R : R + 100) << name;
        EXPECT_EQ(rgb[r][c][2].item<int>(), grey ? R : R + 200) << name;
      }
  }
}

TEST(StreamPixels, BadInputIsNamed) {
  EXPECT_PRN_ERROR(prn::stream::pixel_format_from_name("NV12"), "NV12", "GRAY8");
  uint8_t b[16] = {};
  EXPECT_PRN_ERROR(rows_to_rgb8(b, 4, 1, 8, PixelFormat::RGB), "stride", "12", "8");
  EXPECT_PRN_ERROR(rows_to_rgb8(b, 0, 1, 8, PixelFormat::Gray8), "width");
}
