#include "prnsave-frame.h"

#include <cstring>

namespace prn {

SaveImage
save_image_of (const GstVideoFrame & frame)
{
  const GstVideoFormatInfo *f = frame.info.finfo;
  const int width = GST_VIDEO_FRAME_WIDTH (&frame), height = GST_VIDEO_FRAME_HEIGHT (&frame);
  const int stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  const guint8 *data = static_cast<const guint8 *> (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0));

  SaveImage out;
  out.width = width;
  out.height = height;
  if (GST_VIDEO_FORMAT_INFO_IS_GRAY (f)) {
    const bool wide = GST_VIDEO_FORMAT_INFO_DEPTH (f, 0) > 8;
    out.kind = wide ? SaveImage::Kind::GRAY16 : SaveImage::Kind::GRAY8;
    const size_t row = static_cast<size_t> (width) * (wide ? 2 : 1);
    out.pixels.resize (row * height);
    for (int y = 0; y < height; y++) {
      const guint8 *src = data + static_cast<size_t> (y) * stride;
      guint8 *dst = out.pixels.data () + row * y;
      if (!wide) {
        std::memcpy (dst, src, row);
        continue;
      }
      for (int x = 0; x < width; x++) {     /* GRAY16_LE to native-endian */
        const guint16 v = GST_READ_UINT16_LE (src + 2 * x);
        std::memcpy (dst + 2 * x, &v, 2);
      }
    }
    return out;
  }
  /* Packed RGB: each component at its own offset within a pixel. */
  const bool alpha = GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f);
  out.kind = alpha ? SaveImage::Kind::RGBA8 : SaveImage::Kind::RGB8;
  const int channels = alpha ? 4 : 3;
  const int pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0);
  int offset[4];
  for (int c = 0; c < channels; c++)
    offset[c] = GST_VIDEO_FRAME_COMP_POFFSET (&frame, c);   /* R, G, B, A */
  out.pixels.resize (static_cast<size_t> (width) * height * channels);
  for (int y = 0; y < height; y++) {
    const guint8 *src = data + static_cast<size_t> (y) * stride;
    guint8 *dst = out.pixels.data () + static_cast<size_t> (y) * width * channels;
    for (int x = 0; x < width; x++, src += pstride, dst += channels)
      for (int c = 0; c < channels; c++)
        dst[c] = src[offset[c]];
  }
  return out;
}

std::optional<SaveHeatmap>
save_heatmap_of (const GstPrnAnomalyMeta * meta)
{
  const gfloat *scores = gst_prn_anomaly_meta_get_heatmap (meta);
  const size_t cells = static_cast<size_t> (meta->heatmap_width) * meta->heatmap_height;
  if (scores == nullptr || cells == 0 || g_bytes_get_size (meta->heatmap) < cells * sizeof (gfloat))
    return std::nullopt;
  SaveHeatmap h;
  h.width = static_cast<int> (meta->heatmap_width);
  h.height = static_cast<int> (meta->heatmap_height);
  h.scale_x = meta->heatmap_scale_x;
  h.scores.assign (scores, scores + cells);
  return h;
}

}  // namespace prn
