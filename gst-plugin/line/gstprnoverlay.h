/* prnline: prnoverlay draws the GstPrnAnomalyMeta of each buffer over the video. */
#pragma once

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

/* What the overlay draws (the "draw" property). */
typedef enum {
  GST_PRN_OVERLAY_DRAW_HEATMAP = (1 << 0),
  GST_PRN_OVERLAY_DRAW_CONTOURS = (1 << 1),
  GST_PRN_OVERLAY_DRAW_BOXES = (1 << 2),
} GstPrnOverlayDraw;

#define GST_TYPE_PRN_OVERLAY_DRAW (gst_prn_overlay_draw_get_type ())
GType gst_prn_overlay_draw_get_type (void);

/* Heatmap colour maps (the "colormap" property); values match PrnColormap. */
typedef enum {
  GST_PRN_OVERLAY_COLORMAP_JET = 0,
  GST_PRN_OVERLAY_COLORMAP_INFERNO = 1,
  GST_PRN_OVERLAY_COLORMAP_TURBO = 2,
} GstPrnOverlayColormap;

#define GST_TYPE_PRN_OVERLAY_COLORMAP (gst_prn_overlay_colormap_get_type ())
GType gst_prn_overlay_colormap_get_type (void);

#define GST_TYPE_PRN_OVERLAY (gst_prn_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnOverlay, gst_prn_overlay, GST, PRN_OVERLAY, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (prnoverlay);

G_END_DECLS
