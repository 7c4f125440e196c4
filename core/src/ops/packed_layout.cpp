#include "packed_layout.h"

#include "prn/stream/pixels.h"

namespace prn::ops::detail {

PackedLayout packed_layout_of(prn::stream::PixelFormat format) {
  const std::array<int64_t, 3> rgb = prn::stream::rgb_byte_offsets(format);
  return {prn::stream::bytes_per_pixel(format), {rgb[0], rgb[1], rgb[2]}};
}

} // namespace prn::ops::detail
