/**
 * SECTION:element-prnoverlay
 * @title: prnoverlay
 *
 * Draws the anomaly results that `prnanomaly` attaches to each buffer
 * (GstPrnAnomalyMeta) over the video, for operators watching the line: the
 * pixel heatmap through a colour map, the contours of the pixels at or above the
 * model's pixel threshold, and a box around each anomalous region. Drawing is in
 * place; buffers without the meta pass through untouched (and are not copied).
 *
 * The heatmap: a score s at or above `min-score` is drawn with the colour map at
 * t = (s - min-score) / (1 - min-score), with opacity `alpha` * t, so faint
 * scores stay faint. `min-score` -1 (the default) takes half the meta's
 * pixel_threshold. Boxes are a 2-pixel outline inside each region; a region that
 * began in an earlier buffer (negative y) gets its visible part. Contours and
 * boxes use `box-color` (0xAARRGGBB; AA is the opacity). The alpha channel of
 * RGBA-family formats is left unchanged.
 *
 * The element takes 8-bit packed RGB formats. A greyscale camera (GRAY8) needs a
 * `videoconvert` in front: videoconvert keeps the meta, since the frame keeps its
 * size (tests/gst/line verifies this). Scaling, cropping or flipping drops it,
 * since the heatmap would no longer match the pixels: put prnoverlay before them.
 *
 * QoS is off: frames arriving late are drawn, not dropped.
 *
 * ## Example pipeline
 * |[
 * gst-launch-1.0 filesrc location=web.mkv ! decodebin ! videoconvert ! \
 *     prnanomaly model=m.prn ! videoconvert ! \
 *     prnoverlay draw=heatmap+contours+boxes colormap=inferno alpha=0.6 ! \
 *     videoconvert ! pngenc ! multifilesink location=out-%05d.png
 * ]|
 * writes every frame with its anomalies drawn as PNG files.
 */
#include "gstprnoverlay.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include "prncolormap.h"
#include "prnline-common.h"
#include "prnoverlaypainter.h"

GST_DEBUG_CATEGORY_STATIC (gst_prn_overlay_debug);
#define GST_CAT_DEFAULT gst_prn_overlay_debug

static_assert (static_cast<int> (GST_PRN_OVERLAY_COLORMAP_JET) == PRN_COLORMAP_JET
    && static_cast<int> (GST_PRN_OVERLAY_COLORMAP_INFERNO) == PRN_COLORMAP_INFERNO
    && static_cast<int> (GST_PRN_OVERLAY_COLORMAP_TURBO) == PRN_COLORMAP_TURBO,
    "the colormap property's values are PrnColormap's");

#define PRN_OVERLAY_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }"

enum {
  PROP_0,
  PROP_DRAW,
  PROP_ALPHA,
  PROP_COLORMAP,
  PROP_MIN_SCORE,
  PROP_BOX_COLOR,
};

#define DEFAULT_PROP_DRAW \
  ((guint) (GST_PRN_OVERLAY_DRAW_HEATMAP | GST_PRN_OVERLAY_DRAW_BOXES))
#define DEFAULT_PROP_ALPHA 0.5
#define DEFAULT_PROP_COLORMAP GST_PRN_OVERLAY_COLORMAP_JET
#define DEFAULT_PROP_MIN_SCORE -1.0
#define DEFAULT_PROP_BOX_COLOR 0xffff0000u

struct _GstPrnOverlay {
  GstVideoFilter parent;

  /* Properties, under the object lock. */
  guint draw;
  gdouble alpha;
  GstPrnOverlayColormap colormap;
  gdouble min_score;
  guint box_color;

  /* Streaming thread only. */
  prn::OverlayPainter *painter;
  gboolean warned_heatmap;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (PRN_OVERLAY_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (PRN_OVERLAY_FORMATS)));

#define gst_prn_overlay_parent_class parent_class
G_DEFINE_TYPE (GstPrnOverlay, gst_prn_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (prnoverlay, "prnoverlay", GST_RANK_NONE, GST_TYPE_PRN_OVERLAY);

GType
gst_prn_overlay_draw_get_type (void)
{
  static GType type = 0;
  static const GFlagsValue values[] = {
    {GST_PRN_OVERLAY_DRAW_HEATMAP, "The pixel heatmap, through the colour map", "heatmap"},
    {GST_PRN_OVERLAY_DRAW_CONTOURS, "Outlines of the pixels at or above the pixel threshold",
        "contours"},
    {GST_PRN_OVERLAY_DRAW_BOXES, "A box around each anomalous region", "boxes"},
    {0, nullptr, nullptr},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_flags_register_static ("GstPrnOverlayDraw", values));
  return type;
}

GType
gst_prn_overlay_colormap_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_PRN_OVERLAY_COLORMAP_JET, "Jet: blue, cyan, yellow, red", "jet"},
    {GST_PRN_OVERLAY_COLORMAP_INFERNO, "Inferno: black, purple, orange, pale yellow",
        "inferno"},
    {GST_PRN_OVERLAY_COLORMAP_TURBO, "Turbo: an improved rainbow, dark blue to dark red",
        "turbo"},
    {0, nullptr, nullptr},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstPrnOverlayColormap", values));
  return type;
}

static void
gst_prn_overlay_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnOverlay *self = GST_PRN_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DRAW:
      self->draw = g_value_get_flags (value);
      break;
    case PROP_ALPHA:
      self->alpha = g_value_get_double (value);
      break;
    case PROP_COLORMAP:
      self->colormap = static_cast<GstPrnOverlayColormap> (g_value_get_enum (value));
      break;
    case PROP_MIN_SCORE:
      self->min_score = g_value_get_double (value);
      break;
    case PROP_BOX_COLOR:
      self->box_color = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_prn_overlay_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstPrnOverlay *self = GST_PRN_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DRAW:
      g_value_set_flags (value, self->draw);
      break;
    case PROP_ALPHA:
      g_value_set_double (value, self->alpha);
      break;
    case PROP_COLORMAP:
      g_value_set_enum (value, self->colormap);
      break;
    case PROP_MIN_SCORE:
      g_value_set_double (value, self->min_score);
      break;
    case PROP_BOX_COLOR:
      g_value_set_uint (value, self->box_color);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Buffers with nothing to draw go through in passthrough, so a buffer that is
 * not writable (shared with a tee branch, say) is not copied for nothing. */
static void
gst_prn_overlay_before_transform (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnOverlay *self = GST_PRN_OVERLAY (trans);

  GST_OBJECT_LOCK (self);
  const guint draw = self->draw;
  GST_OBJECT_UNLOCK (self);

  const gboolean has_meta = gst_buffer_get_prn_anomaly_meta (buffer) != nullptr;
  gst_base_transform_set_passthrough (trans, !has_meta || draw == 0);
}

static GstFlowReturn
gst_prn_overlay_transform_frame_ip (GstVideoFilter * filter, GstVideoFrame * frame)
{
  GstPrnOverlay *self = GST_PRN_OVERLAY (filter);

  if (gst_base_transform_is_passthrough (GST_BASE_TRANSFORM (filter)))
    return GST_FLOW_OK;         /* mapped read-only: nothing to draw */
  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (frame->buffer);
  if (meta == nullptr)
    return GST_FLOW_OK;

  prn::OverlayStyle style;
  GST_OBJECT_LOCK (self);
  style.heatmap = (self->draw & GST_PRN_OVERLAY_DRAW_HEATMAP) != 0;
  style.contours = (self->draw & GST_PRN_OVERLAY_DRAW_CONTOURS) != 0;
  style.boxes = (self->draw & GST_PRN_OVERLAY_DRAW_BOXES) != 0;
  style.alpha = self->alpha;
  style.min_score = self->min_score;
  style.outline_argb = self->box_color;
  style.lut = prn_colormap_lut (static_cast<PrnColormap> (self->colormap));
  GST_OBJECT_UNLOCK (self);

  if ((style.heatmap || style.contours) && meta->heatmap != nullptr
      && !prn::heatmap_usable (meta) && !self->warned_heatmap) {
    GST_WARNING_OBJECT (self, "heatmap of %ux%u cells (scale %g) in %" G_GSIZE_FORMAT
        " bytes cannot be drawn; drawing the boxes only", meta->heatmap_width,
        meta->heatmap_height, meta->heatmap_scale_x, g_bytes_get_size (meta->heatmap));
    self->warned_heatmap = TRUE;
  }

  self->painter->paint (frame, meta, style);
  return GST_FLOW_OK;
}

static void
gst_prn_overlay_finalize (GObject * object)
{
  GstPrnOverlay *self = GST_PRN_OVERLAY (object);

  delete self->painter;
  self->painter = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_overlay_class_init (GstPrnOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_overlay_debug, "prnoverlay", 0,
      "Overlay of prnanomaly heatmaps and regions");

  gobject_class->set_property = gst_prn_overlay_set_property;
  gobject_class->get_property = gst_prn_overlay_get_property;
  gobject_class->finalize = gst_prn_overlay_finalize;

  const GParamFlags flags = prn::PROP_FLAGS_PLAYING;
  g_object_class_install_property (gobject_class, PROP_DRAW,
      g_param_spec_flags ("draw", "Draw",
          "What to draw: the heatmap, the contours of the pixels at or above the "
          "pixel threshold, the region boxes", GST_TYPE_PRN_OVERLAY_DRAW,
          DEFAULT_PROP_DRAW, flags));
  g_object_class_install_property (gobject_class, PROP_ALPHA,
      g_param_spec_double ("alpha", "Alpha",
          "Heatmap opacity at score 1.0; lower scores are drawn proportionally fainter",
          0.0, 1.0, DEFAULT_PROP_ALPHA, flags));
  g_object_class_install_property (gobject_class, PROP_COLORMAP,
      g_param_spec_enum ("colormap", "Colour map", "Colour map of the heatmap",
          GST_TYPE_PRN_OVERLAY_COLORMAP, DEFAULT_PROP_COLORMAP, flags));
  g_object_class_install_property (gobject_class, PROP_MIN_SCORE,
      g_param_spec_double ("min-score", "Minimum score",
          "Raw pixel score below which no heatmap colour is drawn "
          "(-1: half the meta's pixel threshold)", -1.0, 1.0, DEFAULT_PROP_MIN_SCORE, flags));
  g_object_class_install_property (gobject_class, PROP_BOX_COLOR,
      g_param_spec_uint ("box-color", "Box colour",
          "Colour of the region boxes and contours, 0xAARRGGBB (AA: opacity)",
          0, G_MAXUINT32, DEFAULT_PROP_BOX_COLOR, flags));

  gst_element_class_set_static_metadata (element_class, "PRN anomaly overlay",
      "Filter/Effect/Video", "Draws prnanomaly heatmaps, contours and region boxes over the video",
      "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->before_transform = GST_DEBUG_FUNCPTR (gst_prn_overlay_before_transform);
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR (gst_prn_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (GST_TYPE_PRN_OVERLAY_DRAW, static_cast<GstPluginAPIFlags> (0));
  gst_type_mark_as_plugin_api (GST_TYPE_PRN_OVERLAY_COLORMAP,
      static_cast<GstPluginAPIFlags> (0));
}

static void
gst_prn_overlay_init (GstPrnOverlay * self)
{
  self->draw = DEFAULT_PROP_DRAW;
  self->alpha = DEFAULT_PROP_ALPHA;
  self->colormap = DEFAULT_PROP_COLORMAP;
  self->min_score = DEFAULT_PROP_MIN_SCORE;
  self->box_color = DEFAULT_PROP_BOX_COLOR;
  self->painter = new prn::OverlayPainter ();
  self->warned_heatmap = FALSE;

  /* GstVideoFilter turns QoS on; on a line every frame is wanted. */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
