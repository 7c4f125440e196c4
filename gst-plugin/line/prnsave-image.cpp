#include "prnsave-image.h"

#include <png.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <exception>
#include <stdexcept>

namespace prn {

int
SaveImage::bytes_per_pixel (Kind kind)
{
  switch (kind) {
    case Kind::GRAY8: return 1;
    case Kind::GRAY16: return 2;
    case Kind::RGB8: return 3;
    case Kind::RGBA8: return 4;
  }
  return 1;
}

SaveImage
render_heatmap (const float *scores, int width, int height, float scale_x, int out_width,
    const uint8_t *lut)
{
  SaveImage out;
  out.kind = SaveImage::Kind::RGB8;
  if (width <= 0 || height <= 0 || out_width <= 0)
    return out;
  out.width = out_width;
  out.height = height;
  out.pixels.resize (static_cast<size_t> (out_width) * height * 3);
  const float scale = scale_x > 0.0f ? scale_x : 1.0f;
  std::vector<int> cell (out_width);
  for (int x = 0; x < out_width; x++)   /* clamped as a float: x / scale may be huge */
    cell[x] = static_cast<int> (std::min<double> (width - 1, std::floor (x / scale)));
  for (int y = 0; y < height; y++) {
    const float *row = scores + static_cast<size_t> (y) * width;
    uint8_t *dst = out.pixels.data () + static_cast<size_t> (y) * out_width * 3;
    for (int x = 0; x < out_width; x++) {
      const float s = row[cell[x]];
      const float t = std::isnan (s) ? 0.0f : std::clamp (s, 0.0f, 1.0f);
      const uint8_t *c = lut + 3 * static_cast<int> (std::lround (t * 255.0f));
      std::copy (c, c + 3, dst + 3 * x);
    }
  }
  return out;
}

namespace {

void
append_to_string (png_structp png, png_bytep data, png_size_t length)
{
  auto *out = static_cast<std::string *> (png_get_io_ptr (png));
  try {
    out->append (reinterpret_cast<const char *> (data), length);
  } catch (const std::exception &) {
    png_error (png, "out of memory");   /* no exception may cross libpng's C frames */
  }
}

void
flush_nothing (png_structp)
{
}

/* libpng reports errors through longjmp (C code: no exception may pass it):
 * the message is kept here, and write_png's setjmp turns it into a return. */
struct PngError {
  char message[200] = "";
};

void
keep_png_error (png_structp png, png_const_charp message)
{
  auto *e = static_cast<PngError *> (png_get_error_ptr (png));
  snprintf (e->message, sizeof e->message, "%s", message);
  png_longjmp (png, 1);
}

void
ignore_png_warning (png_structp, png_const_charp)
{
}

/* The libpng calls, in a function without C++ objects that a longjmp would
 * skip. False on an error (in `error`). */
bool
write_png (png_structp png, png_infop info, const SaveImage & image, int depth, int color_type,
    size_t stride, int compression)
{
  if (setjmp (png_jmpbuf (png)))
    return false;
  png_set_compression_level (png, compression);
  /* Camera images: the "sub" and "up" filters do well and cost little. */
  png_set_filter (png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_UP);
  png_set_IHDR (png, info, image.width, image.height, depth, color_type, PNG_INTERLACE_NONE,
      PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  if (depth == 16 && std::endian::native == std::endian::little)
    png_set_swap (png);         /* PNG stores 16-bit samples big-endian */
  for (int y = 0; y < image.height; y++)
    png_write_row (png, const_cast<png_bytep> (image.pixels.data () + stride * y));
  png_write_end (png, nullptr);
  return true;
}

struct PngWriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteGuard () { png_destroy_write_struct (&png, &info); }
};

}  // namespace

std::string
encode_png (const SaveImage & image, int compression)
{
  if (image.width <= 0 || image.height <= 0)
    throw std::runtime_error ("cannot write an empty image as PNG");
  const size_t stride = static_cast<size_t> (image.width) * SaveImage::bytes_per_pixel (image.kind);
  if (image.pixels.size () < stride * image.height)
    throw std::runtime_error ("image has fewer pixels than its size says");

  int color_type = PNG_COLOR_TYPE_GRAY, depth = 8;
  switch (image.kind) {
    case SaveImage::Kind::GRAY8: break;
    case SaveImage::Kind::GRAY16: depth = 16; break;
    case SaveImage::Kind::RGB8: color_type = PNG_COLOR_TYPE_RGB; break;
    case SaveImage::Kind::RGBA8: color_type = PNG_COLOR_TYPE_RGB_ALPHA; break;
  }

  std::string out;
  PngError error;
  PngWriteGuard g;
  g.png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &error, keep_png_error, ignore_png_warning);
  if (g.png == nullptr)
    throw std::runtime_error ("libpng: out of memory");
  g.info = png_create_info_struct (g.png);
  if (g.info == nullptr)
    throw std::runtime_error ("libpng: out of memory");
  png_set_write_fn (g.png, &out, append_to_string, flush_nothing);
  if (!write_png (g.png, g.info, image, depth, color_type, stride, std::clamp (compression, 0, 9)))
    throw std::runtime_error (std::string ("libpng: ") + error.message);
  return out;
}

}  // namespace prn
