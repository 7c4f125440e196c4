/* A PNG file read back with libpng's low-level API, without any conversion:
 * the samples as stored (16-bit ones from big-endian), for the prnsave tests. */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace prntest {

struct PngPixels {
  int width = 0, height = 0;
  int channels = 0;             /* 1 grey, 3 RGB, 4 RGBA */
  int depth = 0;                /* 8 or 16 */
  std::vector<uint16_t> samples; /* row-major, channels per pixel */
  uint16_t at (int x, int y, int c = 0) const { return samples[(static_cast<size_t> (y) * width + x) * channels + c]; }
};

/* False (with the reason in `error`) when the file is missing or not a PNG. */
bool read_png (const std::string &path, PngPixels &out, std::string &error);

}  // namespace prntest
