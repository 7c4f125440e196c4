/* prnline: draws a GstPrnAnomalyMeta over a packed 8-bit RGB-family frame
 * (RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR). Used by prnoverlay;
 * no GObject here, so it can be tested and reused on its own. */
#pragma once

#include <gst/video/video.h>
#include <prnanomaly/gstprnanomalymeta.h>
#include <prn/ops/colormap_blend_core.h>

#include <vector>

namespace prn {

struct OverlayStyle {
  bool heatmap = true;
  bool contours = false;
  bool boxes = true;
  double alpha = 0.5;       /* heatmap opacity at score 1.0 */
  double min_score = -1.0;  /* < 0: the meta's pixel_threshold * 0.5 */
  guint32 outline_argb = 0xffff0000;  /* boxes and contours, 0xAARRGGBB */
  const guint8 *lut = nullptr;        /* 256 RGB triplets, cold to hot */
};

/* Whether the meta's heatmap can be drawn: present, non-empty, its GBytes as
 * large as heatmap_width * heatmap_height float32 values, a positive scale. */
bool heatmap_usable (const GstPrnAnomalyMeta *meta);

/* The raw score at and above which a heatmap cell is coloured. */
double effective_min_score (const OverlayStyle &style, const GstPrnAnomalyMeta *meta);

class OverlayPainter {
public:
  /* `frame` must be mapped writable and be one of the formats above. The heatmap
   * and contours are skipped when !heatmap_usable (meta). */
  void paint (GstVideoFrame *frame, const GstPrnAnomalyMeta *meta, const OverlayStyle &style);

private:
  struct Canvas;

  void draw_heatmap (Canvas &c, const GstPrnAnomalyMeta *meta, const OverlayStyle &style);
  void draw_contours (Canvas &c, const GstPrnAnomalyMeta *meta, const OverlayStyle &style);
  static void draw_boxes (Canvas &c, const GstPrnAnomalyMeta *meta, const OverlayStyle &style);

  /* Scratch space reused across frames (streaming thread only). The blender is
   * the colormap_blend op's CPU twin (core header, no LibTorch): the heatmap is
   * drawn by the same code as prn::ops::colormap_blend_; its column map serves
   * the contours too. */
  prn::ops::HeatmapBlender blender_;
  std::vector<guint8> mask_;    /* contour mask, one byte per pixel */
};

}  // namespace prn
