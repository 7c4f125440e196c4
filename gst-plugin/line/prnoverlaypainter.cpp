/* prnline: heatmap, contour and box drawing for prnoverlay.
 *
 * Heatmap: a cell with raw score s >= min is drawn with t = (s - min) / (1 - min)
 * (clamped to [0, 1]) as colour LUT[t] at opacity alpha * t, so faint scores stay
 * faint and only a score of 1.0 reaches `alpha`. Pixel (x, y) reads cell
 * column floor(x / heatmap_scale_x) (clamped to the heatmap) and row y, or
 * floor(y * heatmap_height / rows) when the heatmap has another number of rows.
 * This part is prn::ops::HeatmapBlender (core/include/prn/ops/colormap_blend_core.h),
 * the CPU twin of the core's colormap_blend op, so both draw identically.
 * Contours: the pixels of the mask (cell score >= pixel_threshold) with a
 * 4-neighbour inside the frame outside the mask; the frame edge itself is not a
 * contour (on a continuous web a defect goes on in the next buffer). Boxes: a
 * 2-pixel outline inside each region's rectangle, clipped to the frame.
 * The alpha channel of formats that have one is left as it is.
 */
#include "prnoverlaypainter.h"

#include <algorithm>
#include <cmath>

namespace prn {

struct OverlayPainter::Canvas {
  guint8 *data;
  gint stride, pstride;
  guint r, g, b;                /* byte offsets of the components in a pixel */
  gint width, height;

  explicit Canvas (GstVideoFrame *frame)
  {
    const GstVideoFormatInfo *f = frame->info.finfo;
    data = static_cast<guint8 *> (GST_VIDEO_FRAME_PLANE_DATA (frame, 0));
    stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
    pstride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
    r = GST_VIDEO_FORMAT_INFO_POFFSET (f, GST_VIDEO_COMP_R);
    g = GST_VIDEO_FORMAT_INFO_POFFSET (f, GST_VIDEO_COMP_G);
    b = GST_VIDEO_FORMAT_INFO_POFFSET (f, GST_VIDEO_COMP_B);
    width = GST_VIDEO_FRAME_WIDTH (frame);
    height = GST_VIDEO_FRAME_HEIGHT (frame);
  }

  guint8 *at (gint x, gint y) const
  {
    return data + static_cast<gsize> (y) * stride + static_cast<gsize> (x) * pstride;
  }

  /* Blends `rgb` over the pixel with weight w / 256 (w in 0..256). */
  void blend (guint8 *px, const guint8 *rgb, guint w) const
  {
    prn::ops::blend_pixel (px, rgb, w, r, g, b);
  }

  prn::ops::PackedFrame packed () const
  {
    prn::ops::PackedFrame f;
    f.data = data;
    f.stride = stride;
    f.width = width;
    f.height = height;
    f.pixel_stride = pstride;
    f.r = r;
    f.g = g;
    f.b = b;
    return f;
  }
};

namespace {

/* Heatmap row of frame row y. */
gsize
heatmap_row (const GstPrnAnomalyMeta *meta, gint y, gint height)
{
  return static_cast<gsize> (prn::ops::heatmap_row (y, height, meta->heatmap_height));
}

prn::ops::HeatmapView
heatmap_view (const GstPrnAnomalyMeta *meta)
{
  prn::ops::HeatmapView v;
  v.data = gst_prn_anomaly_meta_get_heatmap (meta);
  v.width = meta->heatmap_width;
  v.height = meta->heatmap_height;
  v.scale_x = meta->heatmap_scale_x;
  return v;
}

struct Outline {
  guint8 rgb[3];
  guint weight;                 /* 0..256 */
};

Outline
outline_of (guint32 argb)
{
  const guint a = argb >> 24;
  return { { static_cast<guint8> (argb >> 16), static_cast<guint8> (argb >> 8),
          static_cast<guint8> (argb) }, a + (a >> 7) };
}

}  // namespace

bool
heatmap_usable (const GstPrnAnomalyMeta *meta)
{
  if (meta->heatmap == nullptr || meta->heatmap_width == 0 || meta->heatmap_height == 0)
    return false;
  if (!(meta->heatmap_scale_x > 0.0f) || !std::isfinite (meta->heatmap_scale_x))
    return false;
  const gsize need = static_cast<gsize> (meta->heatmap_width) * meta->heatmap_height * sizeof (gfloat);
  return g_bytes_get_size (meta->heatmap) >= need;
}

double
effective_min_score (const OverlayStyle &style, const GstPrnAnomalyMeta *meta)
{
  return style.min_score < 0.0 ? meta->pixel_threshold * 0.5 : style.min_score;
}

void
OverlayPainter::paint (GstVideoFrame *frame, const GstPrnAnomalyMeta *meta,
    const OverlayStyle &style)
{
  Canvas c (frame);
  if (c.width <= 0 || c.height <= 0)
    return;

  if ((style.heatmap || style.contours) && heatmap_usable (meta)) {
    if (style.heatmap)
      draw_heatmap (c, meta, style);
    if (style.contours)
      draw_contours (c, meta, style);
  }
  if (style.boxes)
    draw_boxes (c, meta, style);
}

void
OverlayPainter::draw_heatmap (Canvas &c, const GstPrnAnomalyMeta *meta,
    const OverlayStyle &style)
{
  prn::ops::BlendStyle blend;
  blend.min_score = effective_min_score (style, meta);
  blend.alpha = style.alpha;
  blend.lut = style.lut;
  blender_.blend (c.packed (), heatmap_view (meta), blend);
}

void
OverlayPainter::draw_contours (Canvas &c, const GstPrnAnomalyMeta *meta,
    const OverlayStyle &style)
{
  const Outline line = outline_of (style.outline_argb);
  if (line.weight == 0)
    return;

  const gfloat *heat = gst_prn_anomaly_meta_get_heatmap (meta);
  const gsize w = c.width;
  blender_.map_columns (c.width, meta->heatmap_scale_x, meta->heatmap_width);
  const auto &columns = blender_.columns ();
  mask_.assign (w * c.height, 0);
  for (gint y = 0; y < c.height; y++) {
    const gfloat *src = heat + heatmap_row (meta, y, c.height) * meta->heatmap_width;
    guint8 *dst = mask_.data () + y * w;
    for (gsize x = 0; x < w; x++)
      dst[x] = src[columns[x]] >= meta->pixel_threshold;
  }

  for (gint y = 0; y < c.height; y++) {
    const guint8 *m = mask_.data () + y * w;
    const guint8 *up = y > 0 ? m - w : nullptr;
    const guint8 *down = y + 1 < c.height ? m + w : nullptr;
    for (gsize x = 0; x < w; x++) {
      if (!m[x])
        continue;
      const bool edge = (x > 0 && !m[x - 1]) || (x + 1 < w && !m[x + 1]) ||
          (up && !up[x]) || (down && !down[x]);
      if (edge)
        c.blend (c.at (x, y), line.rgb, line.weight);
    }
  }
}

void
OverlayPainter::draw_boxes (Canvas &c, const GstPrnAnomalyMeta *meta, const OverlayStyle &style)
{
  const Outline line = outline_of (style.outline_argb);
  if (line.weight == 0 || meta->regions == nullptr)
    return;

  /* Fills [x0, x1) x [y0, y1) clipped to the frame; 64-bit against overflow. */
  auto fill = [&c, &line] (gint64 x0, gint64 y0, gint64 x1, gint64 y1) {
    x0 = std::max<gint64> (x0, 0);
    y0 = std::max<gint64> (y0, 0);
    x1 = std::min<gint64> (x1, c.width);
    y1 = std::min<gint64> (y1, c.height);
    for (gint64 y = y0; y < y1; y++)
      for (gint64 x = x0; x < x1; x++)
        c.blend (c.at (x, y), line.rgb, line.weight);
  };

  constexpr gint64 thick = 2;
  for (guint i = 0; i < meta->regions->len; i++) {
    const GstPrnRegion &r = g_array_index (meta->regions, GstPrnRegion, i);
    if (r.width <= 0 || r.height <= 0)
      continue;
    const gint64 x0 = r.x, y0 = r.y, x1 = x0 + r.width, y1 = y0 + r.height;
    const gint64 top = std::min (y1, y0 + thick), bottom = std::max (top, y1 - thick);
    const gint64 left = std::min (x1, x0 + thick), right = std::max (left, x1 - thick);
    fill (x0, y0, x1, top);             /* top edge */
    fill (x0, bottom, x1, y1);          /* bottom edge */
    fill (x0, top, left, bottom);       /* left edge, between the two */
    fill (right, top, x1, bottom);      /* right edge */
  }
}

}  // namespace prn
