/* prnanomaly: the anomaly metadata the prnanomaly element attaches to buffers.
 *
 * Public, installed C API for downstream elements and applications:
 *   #include <prnanomaly/gstprnanomalymeta.h>
 *   pkg-config --cflags --libs prnanomaly-meta-1.0
 *
 *   GstPrnAnomalyMeta *m = gst_buffer_get_prn_anomaly_meta (buffer);
 *   if (m && m->anomalous)
 *     for (guint i = 0; i < m->regions->len; i++) {
 *       const GstPrnRegion *r = &g_array_index (m->regions, GstPrnRegion, i);
 *       ...
 *     }
 *
 * Coordinates: x and width are camera pixels of the buffer's columns; y is a row of
 * the buffer (0 = its first row). A region that began in an earlier buffer of a
 * continuous web has a negative y; its web row is row_offset + y. Scores are the
 * model's raw pixel scores in [0, 1] (sigmoid output); `threshold` and
 * `pixel_threshold` are on the same raw scale.
 *
 * The API type carries the "video" and "size" tags. Its transform function copies
 * the meta on a GST_META_TRANSFORM_IS_COPY of the whole buffer (not of a region
 * of it), and on a GST_VIDEO_META_TRANSFORM_IS_SCALE
 * whose input and output have the same width and height; it refuses every other
 * transform. So the meta survives buffer copies, videoconvert (any format change)
 * and the video filters that keep video metas, but not scaling, cropping, boxing
 * or flipping: the heatmap would no longer match the pixels. (With the "video"
 * tag alone, GStreamer 1.22's videoscale, videocrop, videobox and videoflip copy
 * the meta unchanged, so the "size" tag is what makes them drop it.)
 *
 * On GStreamer >= 1.24 the same results could be mirrored into
 * GstAnalyticsRelationMeta (one object-detection mtd per region); this header is
 * the stable interface on 1.22, which has no analytics metas (docs/element.md).
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_PRN_ANOMALY_META_API_TYPE (gst_prn_anomaly_meta_api_get_type ())
#define GST_PRN_ANOMALY_META_INFO (gst_prn_anomaly_meta_get_info ())

/* One connected anomalous region (pixels at or above pixel_threshold). */
typedef struct _GstPrnRegion {
  gint x, y;           /* top-left, buffer coordinates (y < 0: began in an earlier buffer) */
  gint width, height;  /* camera pixels / rows */
  guint64 web_row;     /* web row of the region's first row (= row_offset + y) */
  guint64 area;        /* anomalous pixels (camera pixels) */
  gfloat peak;         /* highest raw pixel score in the region */
} GstPrnRegion;

typedef struct _GstPrnAnomalyMeta {
  GstMeta meta;

  gfloat score;           /* buffer score: highest image score of the tiles covering its rows */
  gboolean anomalous;     /* score >= threshold */
  gfloat threshold;       /* image threshold used */
  gfloat pixel_threshold; /* pixel threshold used for regions and overlays */

  guint64 row_offset;     /* web row of the buffer's first row (frame mode: the rows of
                             the frames before it, a running count) */

  /* Heatmap of the buffer's rows: heatmap_height == the buffer's rows, one float32
   * raw pixel score per cell, row-major. Column j covers camera columns
   * [j * heatmap_scale_x, (j + 1) * heatmap_scale_x). Shared, read-only. */
  guint heatmap_width, heatmap_height;
  gfloat heatmap_scale_x;
  GBytes *heatmap;

  /* GstPrnRegion, highest peak first: the regions that ended in this buffer's rows. */
  GArray *regions;

  gchar *model_id;        /* the bundle's model id */
} GstPrnAnomalyMeta;

GType gst_prn_anomaly_meta_api_get_type (void);
const GstMetaInfo *gst_prn_anomaly_meta_get_info (void);

/* Adds an empty meta (no heatmap, no regions) to a writable buffer. */
GstPrnAnomalyMeta *gst_buffer_add_prn_anomaly_meta (GstBuffer *buffer);

#define gst_buffer_get_prn_anomaly_meta(b) \
  ((GstPrnAnomalyMeta *) gst_buffer_get_meta ((b), GST_PRN_ANOMALY_META_API_TYPE))

/* Takes ownership of `heatmap` (heatmap_width * heatmap_height float32 values). */
void gst_prn_anomaly_meta_set_heatmap (GstPrnAnomalyMeta *meta, guint width, guint height,
    gfloat scale_x, GBytes *heatmap);

/* The heatmap values, or NULL when none is attached. */
const gfloat *gst_prn_anomaly_meta_get_heatmap (const GstPrnAnomalyMeta *meta);

void gst_prn_anomaly_meta_add_region (GstPrnAnomalyMeta *meta, const GstPrnRegion *region);

void gst_prn_anomaly_meta_set_model_id (GstPrnAnomalyMeta *meta, const gchar *model_id);

G_END_DECLS
