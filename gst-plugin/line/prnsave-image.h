/* prnline: the images prnsave writes: a frame's pixels as a packed image, the
 * heatmap rendered with a colour map, and either encoded as PNG. Plain C++ (no
 * GObject); the element copies a mapped video frame into a SaveImage. */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prn {

/* Pixels, rows packed (no padding). GRAY16 samples are native-endian uint16;
 * RGB8 is R, G, B per pixel; RGBA8 is R, G, B, A. */
struct SaveImage {
  enum class Kind { GRAY8, GRAY16, RGB8, RGBA8 };
  Kind kind = Kind::GRAY8;
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;

  static int bytes_per_pixel (Kind kind);
};

/* A heatmap of raw scores in [0, 1] (`width` x `height`, row-major; each cell
 * covers `scale_x` camera columns) as an RGB8 image `out_width` pixels wide,
 * `height` rows: each pixel the colour of its cell's score in `lut` (256 RGB
 * triplets, coldest first). Scores outside [0, 1] are clamped. */
SaveImage render_heatmap (const float *scores, int width, int height, float scale_x,
    int out_width, const uint8_t *lut);

/* The PNG file of `image` (zlib level `compression`, 0 to 9). Throws
 * std::runtime_error with libpng's message when it cannot encode it. */
std::string encode_png (const SaveImage & image, int compression);

}  // namespace prn
