/* prnanomaly: GstPrnAnomalyMeta, the anomaly metadata of a buffer.
 *
 * Tags: "video" and "size". The "video" tag alone is not enough on GStreamer
 * 1.22: videoconvertscale (videoscale), videocrop, videobox and videoflip copy a
 * meta tagged only "video" to their output whatever they do to the pixels. With
 * "size" they hand it to the transform function below with the scale transform
 * (or drop it), and the function keeps it only when the frame keeps its
 * dimensions (videoconvert, a format change). GST_META_TRANSFORM_IS_COPY copies
 * (the heatmap GBytes is shared, the regions and the model id duplicated); every
 * other transform is refused: a heatmap that no longer matches the pixels is
 * worse than none.
 */
#include "prnanomaly/gstprnanomalymeta.h"

#include <gst/video/video.h>

static gboolean
gst_prn_anomaly_meta_init (GstMeta * meta, gpointer /* params */ , GstBuffer * /* buffer */ )
{
  auto *m = reinterpret_cast<GstPrnAnomalyMeta *> (meta);

  m->score = 0.0f;
  m->anomalous = FALSE;
  m->threshold = 0.0f;
  m->pixel_threshold = 0.0f;
  m->row_offset = 0;
  m->heatmap_width = 0;
  m->heatmap_height = 0;
  m->heatmap_scale_x = 1.0f;
  m->heatmap = nullptr;
  m->regions = g_array_new (FALSE, TRUE, sizeof (GstPrnRegion));
  m->model_id = nullptr;
  return TRUE;
}

static void
gst_prn_anomaly_meta_free (GstMeta * meta, GstBuffer * /* buffer */ )
{
  auto *m = reinterpret_cast<GstPrnAnomalyMeta *> (meta);

  g_clear_pointer (&m->heatmap, g_bytes_unref);
  g_clear_pointer (&m->regions, g_array_unref);
  g_clear_pointer (&m->model_id, g_free);
}

static gboolean
gst_prn_anomaly_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * /* buffer */ ,
    GQuark type, gpointer data)
{
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    const auto *t = static_cast<const GstVideoMetaTransform *> (data);
    if (t == nullptr || t->in_info == nullptr || t->out_info == nullptr
        || GST_VIDEO_INFO_WIDTH (t->in_info) != GST_VIDEO_INFO_WIDTH (t->out_info)
        || GST_VIDEO_INFO_HEIGHT (t->in_info) != GST_VIDEO_INFO_HEIGHT (t->out_info))
      return FALSE;
  } else if (!GST_META_TRANSFORM_IS_COPY (type)) {
    return FALSE;
  } else if (data != nullptr && static_cast<const GstMetaTransformCopy *> (data)->region) {
    return FALSE;               /* a part of the buffer: the heatmap's rows would not match */
  }

  const auto *src = reinterpret_cast<const GstPrnAnomalyMeta *> (meta);
  GstPrnAnomalyMeta *dst = gst_buffer_add_prn_anomaly_meta (dest);
  if (dst == nullptr)
    return FALSE;

  dst->score = src->score;
  dst->anomalous = src->anomalous;
  dst->threshold = src->threshold;
  dst->pixel_threshold = src->pixel_threshold;
  dst->row_offset = src->row_offset;
  dst->heatmap_width = src->heatmap_width;
  dst->heatmap_height = src->heatmap_height;
  dst->heatmap_scale_x = src->heatmap_scale_x;
  dst->heatmap = src->heatmap ? g_bytes_ref (src->heatmap) : nullptr;
  if (src->regions->len > 0)
    g_array_append_vals (dst->regions, src->regions->data, src->regions->len);
  dst->model_id = g_strdup (src->model_id);
  return TRUE;
}

GType
gst_prn_anomaly_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_SIZE_STR, nullptr };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstPrnAnomalyMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

const GstMetaInfo *
gst_prn_anomaly_meta_get_info (void)
{
  static const GstMetaInfo *info = nullptr;

  if (g_once_init_enter (&info)) {
    const GstMetaInfo *i = gst_meta_register (GST_PRN_ANOMALY_META_API_TYPE,
        "GstPrnAnomalyMeta", sizeof (GstPrnAnomalyMeta),
        gst_prn_anomaly_meta_init, gst_prn_anomaly_meta_free,
        gst_prn_anomaly_meta_transform);
    g_once_init_leave (&info, i);
  }
  return info;
}

GstPrnAnomalyMeta *
gst_buffer_add_prn_anomaly_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), nullptr);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), nullptr);

  return reinterpret_cast<GstPrnAnomalyMeta *> (gst_buffer_add_meta (buffer,
          GST_PRN_ANOMALY_META_INFO, nullptr));
}

void
gst_prn_anomaly_meta_set_heatmap (GstPrnAnomalyMeta * meta, guint width, guint height,
    gfloat scale_x, GBytes * heatmap)
{
  g_return_if_fail (meta != nullptr);
  g_return_if_fail (heatmap == nullptr || scale_x > 0.0f);
  if (heatmap != nullptr
      && g_bytes_get_size (heatmap) != (gsize) width * height * sizeof (gfloat)) {
    g_critical ("gst_prn_anomaly_meta_set_heatmap: %" G_GSIZE_FORMAT
        " bytes for a %ux%u float32 heatmap (expected %" G_GSIZE_FORMAT ")",
        g_bytes_get_size (heatmap), width, height,
        (gsize) width * height * sizeof (gfloat));
    g_bytes_unref (heatmap);
    return;
  }

  g_clear_pointer (&meta->heatmap, g_bytes_unref);
  meta->heatmap = heatmap;
  meta->heatmap_width = heatmap ? width : 0;
  meta->heatmap_height = heatmap ? height : 0;
  meta->heatmap_scale_x = heatmap ? scale_x : 1.0f;
}

const gfloat *
gst_prn_anomaly_meta_get_heatmap (const GstPrnAnomalyMeta * meta)
{
  g_return_val_if_fail (meta != nullptr, nullptr);

  if (meta->heatmap == nullptr)
    return nullptr;
  return static_cast<const gfloat *> (g_bytes_get_data (meta->heatmap, nullptr));
}

void
gst_prn_anomaly_meta_add_region (GstPrnAnomalyMeta * meta, const GstPrnRegion * region)
{
  g_return_if_fail (meta != nullptr);
  g_return_if_fail (region != nullptr);

  g_array_append_vals (meta->regions, region, 1);
}

void
gst_prn_anomaly_meta_set_model_id (GstPrnAnomalyMeta * meta, const gchar * model_id)
{
  g_return_if_fail (meta != nullptr);

  g_free (meta->model_id);
  meta->model_id = g_strdup (model_id);
}
