#include "png_reader.h"

#include <png.h>

#include <cstdio>

namespace prntest {

namespace {

/* The libpng calls, in a function without C++ objects a longjmp would skip. */
bool
read_rows (png_structp png, png_infop info, FILE *f, PngPixels &out)
{
  if (setjmp (png_jmpbuf (png)))
    return false;
  png_init_io (png, f);
  png_read_png (png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  out.width = static_cast<int> (png_get_image_width (png, info));
  out.height = static_cast<int> (png_get_image_height (png, info));
  out.channels = png_get_channels (png, info);
  out.depth = png_get_bit_depth (png, info);
  png_bytepp rows = png_get_rows (png, info);
  out.samples.resize (static_cast<size_t> (out.width) * out.height * out.channels);
  const size_t per_row = static_cast<size_t> (out.width) * out.channels;
  for (int y = 0; y < out.height; y++)
    for (size_t i = 0; i < per_row; i++)
      out.samples[y * per_row + i] = out.depth == 16
          ? static_cast<uint16_t> ((rows[y][2 * i] << 8) | rows[y][2 * i + 1])
          : rows[y][i];
  return true;
}

}  // namespace

bool
read_png (const std::string &path, PngPixels &out, std::string &error)
{
  FILE *f = fopen (path.c_str (), "rb");
  if (f == nullptr) {
    error = "cannot open " + path;
    return false;
  }
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct (png);
  const bool ok = read_rows (png, info, f, out);
  png_destroy_read_struct (&png, &info, nullptr);
  fclose (f);
  if (!ok)
    error = path + " is not a PNG file libpng can read";
  return ok;
}

}  // namespace prntest
