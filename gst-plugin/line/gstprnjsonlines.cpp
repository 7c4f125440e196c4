/**
 * SECTION:element-prnjsonlines
 * @title: prnjsonlines
 *
 * Writes the anomaly results that `prnanomaly` attaches to each buffer
 * (GstPrnAnomalyMeta) as JSON lines: one JSON object per line, appended as the
 * buffers pass, so a line's MES/PLC gateway or a script can `tail -f` the file.
 * The element is a passthrough: buffers, caps and events go on unchanged.
 *
 * `what` chooses the lines:
 *
 * - `regions` (the default): one line per anomalous region of the meta,
 *   `{"kind":"region","pts":..,"running_time":..,"row_offset":..,"x":..,"y":..,
 *   "width":..,"height":..,"area":..,"score":..,"buffer_score":..,"threshold":..,
 *   "model_id":".."}`. x, y, width and height are buffer coordinates (y < 0: the
 *   region began in an earlier buffer of a continuous web), row_offset is the web
 *   row of the region's first row (the meta's row_offset + y), score is the
 *   region's peak raw pixel score, buffer_score and threshold the buffer's.
 * - `buffers`: one line per buffer, `{"kind":"buffer","pts":..,"running_time":..,
 *   "duration":..,"row_offset":..,"rows":..,"score":..,"threshold":..,
 *   "anomalous":true|false,"regions":[{"x":..,"y":..,"width":..,"height":..,
 *   "area":..,"score":..},...],"model_id":".."}`; rows is the meta's heatmap
 *   height (the buffer's rows; 0 when no heatmap is attached).
 * - `anomalous-buffers`: the buffer lines of the anomalous buffers only.
 *
 * Buffers without the meta write nothing, whatever `what` says. Times are in
 * nanoseconds (running_time from the element's segment); a time that is not
 * known is null, as is a model id that is not set. Scores are raw [0, 1] scores
 * written with "%.6g".
 *
 * `location` is opened in start() (READY to PAUSED), truncated or, with
 * `append`, appended to; NULL or "-" writes to stdout (run gst-launch-1.0 with
 * -q then, so that its own messages stay out of the stream). With `flush` (the
 * default) every buffer's lines are flushed as soon as they are written. A
 * location that cannot be opened fails the state change with a RESOURCE
 * OPEN_WRITE error; a failed write (a full disk) posts a RESOURCE WRITE error and
 * stops the stream with GST_FLOW_ERROR.
 *
 * ## Example pipeline
 * |[
 * gst-launch-1.0 -q filesrc location=web.mkv ! decodebin ! videoconvert ! \
 *     prnanomaly model=m.prn ! prnjsonlines location=detections.jsonl ! fakesink
 * ]|
 * writes one line per anomalous region to detections.jsonl, while
 * `tail -f detections.jsonl` shows them as they come.
 */
#include "gstprnjsonlines.h"

#include <glib/gstdio.h>
#include <prnanomaly/gstprnanomalymeta.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "prnjson.h"
#include "prnline-common.h"

static_assert (static_cast<int> (prn::JsonWhat::REGIONS) == GST_PRN_JSON_LINES_WHAT_REGIONS
    && static_cast<int> (prn::JsonWhat::ANOMALOUS_BUFFERS) == GST_PRN_JSON_LINES_WHAT_ANOMALOUS_BUFFERS
    && static_cast<int> (prn::JsonWhat::BUFFERS) == GST_PRN_JSON_LINES_WHAT_BUFFERS,
    "prn::JsonWhat carries the values of GstPrnJsonLinesWhat");

GST_DEBUG_CATEGORY_STATIC (gst_prn_json_lines_debug);
#define GST_CAT_DEFAULT gst_prn_json_lines_debug

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_APPEND,
  PROP_WHAT,
  PROP_FLUSH,
};

#define DEFAULT_PROP_LOCATION nullptr
#define DEFAULT_PROP_APPEND FALSE
#define DEFAULT_PROP_WHAT GST_PRN_JSON_LINES_WHAT_REGIONS
#define DEFAULT_PROP_FLUSH TRUE

struct _GstPrnJsonLines {
  GstBaseTransform parent;

  /* Properties, under the object lock. */
  gchar *location;
  gboolean append;
  GstPrnJsonLinesWhat what;
  gboolean flush;

  /* Set in start(), cleared in stop(); used by the streaming thread between. */
  FILE *file;
  gboolean owns_file;           /* FALSE for stdout, which is never closed */
  gchar *file_name;             /* for messages: the location, or "stdout" */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_prn_json_lines_parent_class parent_class
G_DEFINE_TYPE (GstPrnJsonLines, gst_prn_json_lines, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnjsonlines, "prnjsonlines", GST_RANK_NONE,
    GST_TYPE_PRN_JSON_LINES);

GType
gst_prn_json_lines_what_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_PRN_JSON_LINES_WHAT_REGIONS, "One line per anomalous region", "regions"},
    {GST_PRN_JSON_LINES_WHAT_ANOMALOUS_BUFFERS,
        "One line per anomalous buffer, with its regions", "anomalous-buffers"},
    {GST_PRN_JSON_LINES_WHAT_BUFFERS, "One line per buffer with a meta, with its regions",
        "buffers"},
    {0, nullptr, nullptr},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstPrnJsonLinesWhat", values));
  return type;
}

static void
gst_prn_json_lines_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnJsonLines *self = GST_PRN_JSON_LINES (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_APPEND:
      self->append = g_value_get_boolean (value);
      break;
    case PROP_WHAT:
      self->what = static_cast<GstPrnJsonLinesWhat> (g_value_get_enum (value));
      break;
    case PROP_FLUSH:
      self->flush = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_prn_json_lines_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstPrnJsonLines *self = GST_PRN_JSON_LINES (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_APPEND:
      g_value_set_boolean (value, self->append);
      break;
    case PROP_WHAT:
      g_value_set_enum (value, self->what);
      break;
    case PROP_FLUSH:
      g_value_set_boolean (value, self->flush);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_prn_json_lines_start (GstBaseTransform * trans)
{
  GstPrnJsonLines *self = GST_PRN_JSON_LINES (trans);

  GST_OBJECT_LOCK (self);
  gchar *location = g_strdup (self->location);
  const gboolean append = self->append;
  GST_OBJECT_UNLOCK (self);

  if (location == nullptr || g_strcmp0 (location, "-") == 0) {
    self->file = stdout;
    self->owns_file = FALSE;
    self->file_name = g_strdup ("stdout");
    g_free (location);
    return TRUE;
  }

  self->file = g_fopen (location, append ? "a" : "w");
  if (self->file == nullptr) {
    const int errsv = errno;
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open \"%s\" for writing.", location), ("%s", g_strerror (errsv)));
    g_free (location);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "writing to %s (%s)", location, append ? "append" : "truncate");
  self->owns_file = TRUE;
  self->file_name = location;
  return TRUE;
}

/* Flushes, and closes a file of our own; a failure (the last lines could not be
 * written) posts a RESOURCE error. Returns FALSE then. */
static gboolean
gst_prn_json_lines_close (GstPrnJsonLines * self)
{
  if (self->file == nullptr)
    return TRUE;
  const int failed = self->owns_file ? fclose (self->file) : fflush (self->file);
  const int errsv = errno;
  self->file = nullptr;
  if (failed != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, CLOSE,
        ("Could not write the last lines to \"%s\".", self->file_name),
        ("%s", g_strerror (errsv)));
  }
  g_clear_pointer (&self->file_name, g_free);
  return failed == 0;
}

/* Stopping always succeeds, so that a pipeline can be torn down after a full
 * disk; the error is on the bus. */
static gboolean
gst_prn_json_lines_stop (GstBaseTransform * trans)
{
  gst_prn_json_lines_close (GST_PRN_JSON_LINES (trans));
  return TRUE;
}

/* Writes `text` (whole lines) in one go, then flushes when asked to. */
static GstFlowReturn
gst_prn_json_lines_write (GstPrnJsonLines * self, const std::string & text, gboolean flush)
{
  if (self->file == nullptr)
    return GST_FLOW_FLUSHING;   /* not started */
  if (fwrite (text.data (), 1, text.size (), self->file) == text.size ()
      && (!flush || fflush (self->file) == 0))
    return GST_FLOW_OK;

  const int errsv = errno;
  clearerr (self->file);
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
      ("Could not write to \"%s\".", self->file_name), ("%s", g_strerror (errsv)));
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_prn_json_lines_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnJsonLines *self = GST_PRN_JSON_LINES (trans);

  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);
  if (meta == nullptr)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  const GstPrnJsonLinesWhat what = self->what;
  const gboolean flush = self->flush;
  GST_OBJECT_UNLOCK (self);

  const prn::JsonTimes times = prn::json_times (trans->segment, buffer);

  std::string text;
  for (const std::string &object : prn::meta_json (meta, static_cast<prn::JsonWhat> (what), times)) {
    text += object;
    text += '\n';
  }
  if (text.empty ())
    return GST_FLOW_OK;
  return gst_prn_json_lines_write (self, text, flush);
}

/* At EOS everything written so far reaches the file, even with flush=false. */
static gboolean
gst_prn_json_lines_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnJsonLines *self = GST_PRN_JSON_LINES (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->file != nullptr
      && fflush (self->file) != 0) {
    const int errsv = errno;
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write to \"%s\".", self->file_name), ("%s", g_strerror (errsv)));
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static void
gst_prn_json_lines_finalize (GObject * object)
{
  GstPrnJsonLines *self = GST_PRN_JSON_LINES (object);

  /* stop() has closed the file; this is only for an element never stopped. */
  if (self->file != nullptr && self->owns_file)
    fclose (self->file);
  g_clear_pointer (&self->file_name, g_free);
  g_clear_pointer (&self->location, g_free);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_json_lines_class_init (GstPrnJsonLinesClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_json_lines_debug, "prnjsonlines", 0,
      "prnanomaly results as JSON lines");

  gobject_class->set_property = gst_prn_json_lines_set_property;
  gobject_class->get_property = gst_prn_json_lines_get_property;
  gobject_class->finalize = gst_prn_json_lines_finalize;

  const GParamFlags ready = prn::PROP_FLAGS_READY;
  const GParamFlags playing = prn::PROP_FLAGS_PLAYING;
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "File to write the JSON lines to (NULL or \"-\": stdout); opened when the "
          "element starts", DEFAULT_PROP_LOCATION, ready));
  g_object_class_install_property (gobject_class, PROP_APPEND,
      g_param_spec_boolean ("append", "Append",
          "Append to the file instead of truncating it", DEFAULT_PROP_APPEND, ready));
  g_object_class_install_property (gobject_class, PROP_WHAT,
      g_param_spec_enum ("what", "What",
          "What a line describes: a region, an anomalous buffer or any buffer with a meta",
          GST_TYPE_PRN_JSON_LINES_WHAT, DEFAULT_PROP_WHAT, playing));
  g_object_class_install_property (gobject_class, PROP_FLUSH,
      g_param_spec_boolean ("flush", "Flush",
          "Flush each buffer's lines at once, so that readers (tail -f) see them",
          DEFAULT_PROP_FLUSH, playing));

  gst_element_class_set_static_metadata (element_class, "PRN anomaly JSON lines",
      "Filter/Analyzer/Video", "Writes prnanomaly results as JSON lines, one per region "
      "or buffer", "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_prn_json_lines_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_prn_json_lines_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_prn_json_lines_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_prn_json_lines_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;

  gst_type_mark_as_plugin_api (GST_TYPE_PRN_JSON_LINES_WHAT,
      static_cast<GstPluginAPIFlags> (0));
}

static void
gst_prn_json_lines_init (GstPrnJsonLines * self)
{
  self->location = g_strdup (DEFAULT_PROP_LOCATION);
  self->append = DEFAULT_PROP_APPEND;
  self->what = DEFAULT_PROP_WHAT;
  self->flush = DEFAULT_PROP_FLUSH;
  self->file = nullptr;
  self->owns_file = FALSE;
  self->file_name = nullptr;

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
