/**
 * SECTION:element-prnwebsrc
 * @title: prnwebsrc
 *
 * Plays a large image, or a generated web texture, as a line-scan stream: each
 * buffer holds `lines-per-buffer` consecutive lines of the web (the camera's
 * line: `width` pixels), top to bottom, at `line-rate` lines per second.
 *
 * - `location`: an image file that OpenCV reads (8 or 16 bit, grey or colour,
 *   alpha dropped), played as the web, its width the stream's width. Its ground
 *   truth, if any, is a sidecar `<image without extension>.truth.jsonl`, copied
 *   as it is to `truth-location`; without one nothing is written there and a
 *   warning says so.
 * - `texture`: a texture file (a GIMP .pat or an image), or the name of a system
 *   texture ("burlap", "Burlap.pat", "Fabric/burlap"; the error for an unknown
 *   name lists them), rendered as a web of `width` x `web-lines` pixels
 *   seen by a line camera, with `defects` defects of `defect-kinds` planted at
 *   the scale `tile` (prn::data::render_linescan_web: the dataset generator's
 *   rendering and defects, so a model trained on `prn-make-linescan` output of
 *   the same texture and tile finds them). The first `tile` lines are clean.
 *   `truth-location` gets one JSON object per planted defect and line:
 *   `{"kind":"scratch","x":..,"y":..,"width":..,"height":..,"area":..,"loop":..}`
 *   (the mask's bounding box in web pixels, y the web row, area its pixel
 *   count; loop: the period in rows at which it recurs, the web's length with
 *   `loop`, 0 without), written atomically when the element starts.
 *
 * Caps: GRAY8 (preferred) or RGB, width the web's, height `lines-per-buffer`
 * (fixed: a line camera does not change its frame height while grabbing), and
 * framerate `line-rate` / `lines-per-buffer` (0/1 when `line-rate` is 0). GRAY8
 * is the BT.601 luma of the RGB web in OpenCV's fixed point:
 * Y = (4899 R + 9617 G + 1868 B + 8192) >> 14 (exactly cv::COLOR_RGB2GRAY).
 *
 * Timestamps: the buffer starting at stream row r has PTS r / line-rate and
 * lasts until the next one's PTS (lines-per-buffer / line-rate, rounded to the
 * nanosecond); offset is the buffer's number (r / lines-per-buffer). With
 * `line-rate` 0 buffers carry no times. Without `loop` the stream ends after the
 * last whole buffer: the incomplete tail (web lines modulo lines-per-buffer) is
 * dropped, and so are the tail's defects from the truth. With `loop` the web
 * wraps (a buffer may hold the end and the start of the web) and row numbers and
 * timestamps go on. `num-buffers` stops it after that many buffers.
 *
 * With `is-live` the element acts as a camera: it releases each buffer when its
 * last line has been captured, against the pipeline clock, and reports one
 * buffer's duration as its latency. Otherwise buffers go as fast as downstream
 * takes them. Seeking is not supported.
 *
 * The web is loaded or rendered in start() (READY to PAUSED; about a second per
 * 4 million pixels generated on one core) and freed in stop(). A missing or
 * unreadable location, an unknown texture, both or neither of location and
 * texture, or values the generator refuses fail the state change with an error
 * naming the property and value.
 *
 * ## Example pipeline
 * |[
 * gst-launch-1.0 prnwebsrc texture=burlap defects=12 truth-location=truth.jsonl \
 *     num-buffers=10 ! videoconvert ! pngenc ! multifilesink location=web-%02d.png
 * ]|
 * writes the first 640 lines of a generated burlap web as ten PNG files, and
 * the planted defects to truth.jsonl.
 */
#include "gstprnwebsrc.h"

#include <gst/video/video.h>

#include <cstring>
#include <string>

#include "prnwebsim.h"
#include "prnwebsrc-props.h"

GST_DEBUG_CATEGORY_STATIC (gst_prn_web_src_debug);
#define GST_CAT_DEFAULT gst_prn_web_src_debug

/* The element's C++ state: created in _init, deleted in finalize. */
struct PrnWebSrcState {
  /* Under the object lock: the properties, and what start() set up (get_caps
   * and the latency query read it from any thread). */
  prn::sim::WebSrcProps props;
  prn::sim::Web web;            /* loaded in start(), freed in stop() */
  bool started = false;
  gint rows = 0;                /* lines-per-buffer of this run */
  guint rate = 0;               /* line-rate of this run */
  bool loop = false;
  guint64 end_row = 0;          /* without loop: the rows played */
  /* Streaming thread. */
  bool grey = true;
  GstVideoInfo info;
  guint64 next_row = 0;
  guint64 buffers = 0;
};

struct _GstPrnWebSrc {
  GstPushSrc parent;

  PrnWebSrcState *state;
};

#define PRN_WEB_SRC_CAPS \
  "video/x-raw, format = (string) { GRAY8, RGB }, width = (int) [ 1, max ], " \
  "height = (int) [ 1, max ], framerate = (fraction) [ 0/1, max ]"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (PRN_WEB_SRC_CAPS));

#define gst_prn_web_src_parent_class parent_class
G_DEFINE_TYPE (GstPrnWebSrc, gst_prn_web_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (prnwebsrc, "prnwebsrc", GST_RANK_NONE, GST_TYPE_PRN_WEB_SRC);

static void
gst_prn_web_src_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (object);

  if (prop_id == prn::sim::PROP_IS_LIVE) {
    /* GstBaseSrc's own state: it takes the object lock itself. */
    gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
    return;
  }
  GST_OBJECT_LOCK (self);
  const bool ok = prn::sim::set_prop (self->state->props, prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_prn_web_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (object);

  if (prop_id == prn::sim::PROP_IS_LIVE) {
    g_value_set_boolean (value, gst_base_src_is_live (GST_BASE_SRC (self)));
    return;
  }
  GST_OBJECT_LOCK (self);
  const bool ok = prn::sim::get_prop (self->state->props, prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

/* Posts the GStreamer error that matches a failure of start(). */
static void
gst_prn_web_src_post_error (GstPrnWebSrc * self, const prn::sim::WebError & e)
{
  switch (e.kind) {
    case prn::sim::WebError::NOT_FOUND:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", e.what ()), ("start(): not found"));
      break;
    case prn::sim::WebError::OPEN_READ:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", e.what ()), ("start(): cannot read"));
      break;
    case prn::sim::WebError::OPEN_WRITE:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", e.what ()), ("start(): cannot write"));
      break;
    case prn::sim::WebError::SETTINGS:
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", e.what ()), ("start(): bad settings"));
      break;
  }
}

/* Loads or renders the web and writes the truth file. */
static gboolean
gst_prn_web_src_start (GstBaseSrc * src)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (src);
  PrnWebSrcState *st = self->state;

  GST_OBJECT_LOCK (self);
  const prn::sim::WebSrcProps p = st->props;
  GST_OBJECT_UNLOCK (self);

  prn::sim::Web web;
  guint64 end_row = 0;
  try {
    web = prn::sim::load_web (prn::sim::web_settings (p));
    end_row = static_cast<guint64> (web.rgb.rows / p.lines_per_buffer) * p.lines_per_buffer;
    if (!p.loop && end_row == 0)
      throw prn::sim::WebError (prn::sim::WebError::SETTINGS, "The web \"" + web.name + "\" has "
          + std::to_string (web.rgb.rows) + " lines, fewer than lines-per-buffer="
          + std::to_string (p.lines_per_buffer) + "; set fewer lines-per-buffer or loop=true.");
    if (!p.truth_location.empty ()
        && !prn::sim::write_truth (web, p.truth_location, p.loop ? web.rgb.rows : end_row, p.loop))
      GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
          ("No ground truth for \"%s\" (property location): no sidecar \"%s\"; "
              "truth-location \"%s\" is not written.", web.name.c_str (),
              prn::sim::sidecar_path (web.name).c_str (), p.truth_location.c_str ()), (nullptr));
  } catch (const prn::sim::WebError &e) {
    gst_prn_web_src_post_error (self, e);
    return FALSE;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, LIBRARY, FAILED, ("Could not prepare the web to play: %s", e.what ()),
        ("start()"));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "playing %s: %d x %d, %d rows per buffer%s, %" G_GUINT64_FORMAT
      " rows per pass", web.name.c_str (), web.rgb.cols, web.rgb.rows, p.lines_per_buffer,
      p.loop ? ", looped" : "", p.loop ? static_cast<guint64> (web.rgb.rows) : end_row);

  GST_OBJECT_LOCK (self);
  st->web = std::move (web);
  st->started = true;
  st->rows = p.lines_per_buffer;
  st->rate = p.line_rate;
  st->loop = p.loop;
  st->end_row = end_row;
  st->next_row = 0;
  st->buffers = 0;
  gst_video_info_init (&st->info);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_prn_web_src_stop (GstBaseSrc * src)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (src);

  GST_OBJECT_LOCK (self);
  self->state->web.clear ();
  self->state->started = false;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* The stream time of stream row `row`. */
static GstClockTime
gst_prn_web_src_row_time (guint64 row, guint rate)
{
  return gst_util_uint64_scale (row, GST_SECOND, rate);
}

/* Before start(): the template; after: the web's width, lines-per-buffer lines
 * and line-rate / lines-per-buffer frames per second, GRAY8 first. */
static GstCaps *
gst_prn_web_src_get_caps (GstBaseSrc * src, GstCaps * filter)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (src);
  const PrnWebSrcState *st = self->state;
  GstCaps *caps;

  GST_OBJECT_LOCK (self);
  if (!st->started) {
    GST_OBJECT_UNLOCK (self);
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (src));
  } else {
    const gint width = st->web.rgb.cols, rows = st->rows, rate = static_cast<gint> (st->rate);
    const gint gcd = rate > 0 ? gst_util_greatest_common_divisor (rate, rows) : 1;
    GST_OBJECT_UNLOCK (self);
    caps = gst_caps_from_string ("video/x-raw, format = (string) { GRAY8, RGB }");
    gst_caps_set_simple (caps, "width", G_TYPE_INT, width, "height", G_TYPE_INT, rows,
        "framerate", GST_TYPE_FRACTION, rate / gcd, rate > 0 ? rows / gcd : 1,
        "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
  }
  if (filter != nullptr) {
    GstCaps *both = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = both;
  }
  return caps;
}

static gboolean
gst_prn_web_src_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (src);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, caps))
    return FALSE;
  self->state->info = info;
  self->state->grey = GST_VIDEO_INFO_FORMAT (&info) == GST_VIDEO_FORMAT_GRAY8;
  GST_DEBUG_OBJECT (self, "negotiated %" GST_PTR_FORMAT, caps);
  return TRUE;
}

/* A live source releases a buffer when its last line has been captured. */
static void
gst_prn_web_src_get_times (GstBaseSrc * src, GstBuffer * buffer, GstClockTime * start,
    GstClockTime * end)
{
  *start = *end = GST_CLOCK_TIME_NONE;
  if (gst_base_src_is_live (src) && GST_BUFFER_PTS_IS_VALID (buffer)
      && GST_BUFFER_DURATION_IS_VALID (buffer))
    *start = *end = GST_BUFFER_PTS (buffer) + GST_BUFFER_DURATION (buffer);
}

/* Live: one buffer's duration of latency (its lines are captured before it goes). */
static gboolean
gst_prn_web_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (src);

  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
  GST_OBJECT_LOCK (self);
  const bool started = self->state->started;
  const GstClockTime latency = self->state->rate > 0
      ? gst_prn_web_src_row_time (self->state->rows, self->state->rate) : 0;
  GST_OBJECT_UNLOCK (self);
  if (!started)
    return FALSE;
  const gboolean live = gst_base_src_is_live (src);
  gst_query_set_latency (query, live, live ? latency : 0, live ? latency : 0);
  return TRUE;
}

static GstFlowReturn
gst_prn_web_src_create (GstPushSrc * psrc, GstBuffer ** out)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (psrc);
  PrnWebSrcState *st = self->state;

  if (!st->started || GST_VIDEO_INFO_FORMAT (&st->info) == GST_VIDEO_FORMAT_UNKNOWN)
    return GST_FLOW_NOT_NEGOTIATED;
  const guint64 row = st->next_row, rows = static_cast<guint64> (st->rows);
  if (!st->loop && row + rows > st->end_row)
    return GST_FLOW_EOS;

  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, GST_VIDEO_INFO_SIZE (&st->info), nullptr);
  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE)) {
    gst_buffer_unref (buffer);
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not map a buffer to write."), (nullptr));
    return GST_FLOW_ERROR;
  }
  const gint stride = GST_VIDEO_INFO_PLANE_STRIDE (&st->info, 0);
  if (stride != st->web.rgb.cols * (st->grey ? 1 : 3))
    std::memset (map.data, 0, map.size);        /* the padding at the end of each row */
  prn::sim::copy_rows (st->web.rgb, row, st->rows, st->grey, map.data, stride);
  gst_buffer_unmap (buffer, &map);

  if (st->rate > 0) {
    GST_BUFFER_PTS (buffer) = gst_prn_web_src_row_time (row, st->rate);
    GST_BUFFER_DURATION (buffer) =
        gst_prn_web_src_row_time (row + rows, st->rate) - GST_BUFFER_PTS (buffer);
  }
  GST_BUFFER_OFFSET (buffer) = st->buffers;
  GST_BUFFER_OFFSET_END (buffer) = st->buffers + 1;
  st->buffers++;
  st->next_row = row + rows;
  *out = buffer;
  return GST_FLOW_OK;
}

static void
gst_prn_web_src_finalize (GObject * object)
{
  GstPrnWebSrc *self = GST_PRN_WEB_SRC (object);

  delete self->state;
  self->state = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_web_src_class_init (GstPrnWebSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_web_src_debug, "prnwebsrc", 0,
      "Line-scan stream from an image or a generated web");

  gobject_class->set_property = gst_prn_web_src_set_property;
  gobject_class->get_property = gst_prn_web_src_get_property;
  gobject_class->finalize = gst_prn_web_src_finalize;
  prn::sim::install_properties (gobject_class);

  gst_element_class_set_static_metadata (element_class, "PRN line-scan web source",
      "Source/Video", "Plays a large image, or a generated web texture with planted defects "
      "and their ground truth, as a line-scan stream", "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &src_template);

  base_class->start = GST_DEBUG_FUNCPTR (gst_prn_web_src_start);
  base_class->stop = GST_DEBUG_FUNCPTR (gst_prn_web_src_stop);
  base_class->get_caps = GST_DEBUG_FUNCPTR (gst_prn_web_src_get_caps);
  base_class->set_caps = GST_DEBUG_FUNCPTR (gst_prn_web_src_set_caps);
  base_class->get_times = GST_DEBUG_FUNCPTR (gst_prn_web_src_get_times);
  base_class->query = GST_DEBUG_FUNCPTR (gst_prn_web_src_query);
  push_class->create = GST_DEBUG_FUNCPTR (gst_prn_web_src_create);
}

static void
gst_prn_web_src_init (GstPrnWebSrc * self)
{
  self->state = new PrnWebSrcState ();
  gst_video_info_init (&self->state->info);

  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_PROP_IS_LIVE);
}
