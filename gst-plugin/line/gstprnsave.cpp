/**
 * SECTION:element-prnsave
 * @title: prnsave
 *
 * Saves the buffers that `prnanomaly` finds anomalous to a folder, for the
 * operators' review, a defect archive or retraining: for each, the frame as a
 * PNG file, its heatmap in colour (`heatmap`, `colormap`), and a JSON file with
 * the meta (the `prnjsonlines` buffer object: times, web row, score, regions,
 * model id) plus the names of the images. `what` chooses which buffers: those
 * where a region ended (`regions`), anomalous ones (`anomalous-buffers`, the
 * default) or every buffer with a meta (`buffers`). Put it behind a `prnoverlay`
 * to save the frames with their overlay.
 *
 * Names sort in time order: `<prefix>-<UTC time>-<run's sequence>.png`,
 * `...-heatmap.png` and `.json` (written last; each file through a hidden
 * temporary file, synced and renamed, so a reader never sees half a file). At
 * most `max-files` sets stay in the folder: beyond, the oldest are deleted, those
 * of earlier runs with the same `prefix` included, so the disk use is bounded;
 * only names of exactly this form count, other files are left alone.
 *
 * The element is a passthrough that does not hold the stream up while it writes:
 * frames to save are copied into a queue (at most `max-queued`; beyond, dropped,
 * counted and warned about once a minute at most) that a worker thread encodes
 * and writes. After each set it posts an element message "prnsave-file" with
 * the paths (`image`, `heatmap`, `json`). A frame that cannot be written (disk
 * full, the folder replaced by a file) is counted in `failed`, and the first
 * failure after a success posts a warning with the reason; the stream goes on.
 * A folder removed while playing is made again. A `location` that is not
 * given, cannot be created or is not a folder, or an invalid `prefix`, fails the
 * start (READY to PAUSED) with a RESOURCE error naming it.
 *
 * At EOS the element waits up to `flush-timeout` ms until the queue is written
 * (with a warning when some frames are still waiting) and posts an element
 * message "prnsave" with `saved`, `failed`, `dropped` and `waiting`
 * (`gst-launch-1.0 -m` prints it). A flush or a stop ends the wait; a stop counts
 * what is still queued as dropped, but waits for the set being written (a write
 * to a disk that hangs cannot be interrupted). The counts of a run stay readable
 * after it stops.
 *
 * Formats: GRAY8 and GRAY16_LE (saved as 8- and 16-bit grey PNG), RGB, BGR and
 * the 32-bit RGB formats (saved as RGB, or RGBA with their alpha).
 *
 * ## Example pipeline
 * |[
 * gst-launch-1.0 aravissrc camera-name=192.168.1.20 ! video/x-raw,format=GRAY8,width=2048,height=64 \
 *     ! queue ! prnanomaly model=line7.prn ! prnsave location=/var/lib/line7/defects max-files=5000 \
 *     ! fakesink
 * ]|
 * keeps the 5000 latest anomalous frames, their heatmaps and their JSON files.
 */
#include "gstprnsave.h"

#include <prnanomaly/gstprnanomalymeta.h>

#include <gst/video/video.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>

#include "prncolormap.h"
#include "prnjson.h"
#include "prnline-common.h"
#include "prnsave-frame.h"
#include "prnsave-props.h"
#include "prnsave-writer.h"

GST_DEBUG_CATEGORY_STATIC (gst_prn_save_debug);
#define GST_CAT_DEFAULT gst_prn_save_debug

using namespace prn::save;

struct _GstPrnSave {
  GstBaseTransform parent;

  SaveSettings *settings;       /* under the object lock; from _init to finalize */
  prn::SaveWriter *writer;      /* the pointer under the object lock; from start() to stop() */
  prn::JobCounts last;          /* under the object lock: the counts at the last stop() */
  GstVideoInfo info;            /* streaming thread: the negotiated caps */
  gint64 drop_warned_at;        /* streaming thread: monotonic time of the last drop warning, or -1 */
};

#define PRN_SAVE_CAPS GST_VIDEO_CAPS_MAKE (PRN_SAVE_FORMATS)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (PRN_SAVE_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (PRN_SAVE_CAPS));

#define gst_prn_save_parent_class parent_class
G_DEFINE_TYPE (GstPrnSave, gst_prn_save, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (prnsave, "prnsave", GST_RANK_NONE, GST_TYPE_PRN_SAVE);

static void
gst_prn_save_set_property (GObject * object, guint prop_id, const GValue * value,
    GParamSpec * pspec)
{
  GstPrnSave *self = GST_PRN_SAVE (object);

  GST_OBJECT_LOCK (self);
  if (!set_prop (*self->settings, prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_prn_save_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstPrnSave *self = GST_PRN_SAVE (object);

  GST_OBJECT_LOCK (self);
  const prn::JobCounts c = self->writer != nullptr ? self->writer->counts () : self->last;
  switch (prop_id) {
    case PROP_SAVED:
      g_value_set_uint64 (value, c.done);
      break;
    case PROP_FAILED:
      g_value_set_uint64 (value, c.failed);
      break;
    case PROP_DROPPED:
      g_value_set_uint64 (value, c.dropped);
      break;
    default:
      if (!get_prop (*self->settings, prop_id, value))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
post_saved (GstPrnSave * self, const prn::SavedSet & set)
{
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("prnsave-file", "image", G_TYPE_STRING, set.image.c_str (),
              "heatmap", G_TYPE_STRING, set.heatmap.empty () ? nullptr : set.heatmap.c_str (),
              "json", G_TYPE_STRING, set.json.c_str (), NULL)));
}

static gboolean
gst_prn_save_start (GstBaseTransform * trans)
{
  GstPrnSave *self = GST_PRN_SAVE (trans);

  GST_OBJECT_LOCK (self);
  const SaveSettings s = *self->settings;
  GST_OBJECT_UNLOCK (self);

  if (!s.location || s.location->empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No folder given to save frames in."),
        ("property location: expected a folder, got none"));
    return FALSE;
  }
  const std::string folder = *s.location;
  const std::string bad_prefix = prn::SaveWriter::prefix_problem (s.prefix.value_or (""));
  if (!bad_prefix.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid file name prefix."),
        ("property prefix: %s", bad_prefix.c_str ()));
    return FALSE;
  }
  errno = 0;
  const int made = g_mkdir_with_parents (folder.c_str (), 0755);
  const int err = errno;
  if (made != 0 || !g_file_test (folder.c_str (), G_FILE_TEST_IS_DIR)) {
    const std::string why = made != 0 ? std::strerror (err) : "it is not a folder";
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Cannot save frames in \"%s\".", folder.c_str ()),
        ("property location: cannot create the folder: %s", why.c_str ()));
    return FALSE;
  }
  prn::SaveOptions o;
  o.folder = folder;
  o.prefix = s.prefix.value_or ("");
  o.max_files = s.max_files;
  o.max_queued = s.max_queued;
  o.compression = s.compression;
  o.lut = prn_colormap_lut (static_cast<PrnColormap> (s.colormap));
  prn::SaveWriter *writer = nullptr;
  try {
    writer = new prn::SaveWriter (o, [self] (const prn::SavedSet & set) { post_saved (self, set); },
        [self, folder] (const std::string & why) {
          GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
              ("Could not save a frame in \"%s\": %s.", folder.c_str (), why.c_str ()),
              ("counted in the property 'failed'; the stream goes on"));
        });
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Cannot save frames in \"%s\".", folder.c_str ()),
        ("%s", e.what ()));
    return FALSE;
  }
  GST_INFO_OBJECT (self, "saving frames in %s", folder.c_str ());
  self->drop_warned_at = -1;
  GST_OBJECT_LOCK (self);
  self->writer = writer;
  self->last = {};
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_prn_save_stop (GstBaseTransform * trans)
{
  GstPrnSave *self = GST_PRN_SAVE (trans);

  GST_OBJECT_LOCK (self);
  prn::SaveWriter *writer = self->writer;
  GST_OBJECT_UNLOCK (self);
  if (writer == nullptr)
    return TRUE;
  writer->stop ();              /* finishes the set being written, joins the worker */
  GST_OBJECT_LOCK (self);
  self->last = writer->counts (); /* final (the queue counted as dropped): readable after stop */
  self->writer = nullptr;
  GST_OBJECT_UNLOCK (self);
  delete writer;
  return TRUE;
}

static gboolean
gst_prn_save_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps *)
{
  GstPrnSave *self = GST_PRN_SAVE (trans);

  if (!gst_video_info_from_caps (&self->info, incaps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Cannot save video of caps %" GST_PTR_FORMAT ".",
            incaps), ("expected raw video of the sink template's formats"));
    return FALSE;
  }
  return TRUE;
}

static bool
wanted (const GstPrnAnomalyMeta * meta, GstPrnJsonLinesWhat what)
{
  switch (what) {
    case GST_PRN_JSON_LINES_WHAT_REGIONS: return meta->regions != nullptr && meta->regions->len > 0;
    case GST_PRN_JSON_LINES_WHAT_ANOMALOUS_BUFFERS: return meta->anomalous;
    case GST_PRN_JSON_LINES_WHAT_BUFFERS: return true;
  }
  return false;
}

static GstFlowReturn
gst_prn_save_transform_ip (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstPrnSave *self = GST_PRN_SAVE (trans);
  prn::SaveWriter *writer = self->writer; /* set before streaming starts, cleared after */

  const GstPrnAnomalyMeta *meta = gst_buffer_get_prn_anomaly_meta (buffer);
  if (meta == nullptr || writer == nullptr)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  const GstPrnJsonLinesWhat what = self->settings->what;
  const bool heatmap = self->settings->heatmap;
  GST_OBJECT_UNLOCK (self);
  if (!wanted (meta, what))
    return GST_FLOW_OK;

  /* Nothing is copied for a frame the full queue would drop. */
  bool dropped = writer->drop_if_full ();
  if (!dropped) {
    prn::SaveJob job;
    job.time = std::chrono::system_clock::now ();
    GstVideoFrame frame;
    if (!gst_video_frame_map (&frame, &self->info, buffer, GST_MAP_READ)) {
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("A frame could not be read to save it."),
          ("gst_video_frame_map failed: the buffer is smaller than its caps say"));
      return GST_FLOW_OK;
    }
    job.frame = prn::save_image_of (frame);
    gst_video_frame_unmap (&frame);
    if (heatmap)
      job.heatmap = prn::save_heatmap_of (meta);
    job.json = prn::buffer_json (meta, prn::json_times (trans->segment, buffer));
    dropped = !writer->push (std::move (job));
  }
  if (dropped) {
    /* A slow disk drops in bursts: one warning a minute at most. */
    const gint64 now = g_get_monotonic_time ();
    if (self->drop_warned_at < 0 || now - self->drop_warned_at >= 60 * G_USEC_PER_SEC) {
      self->drop_warned_at = now;
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("Dropping frames to save: the disk is too slow."),
          ("%" G_GUINT64_FORMAT " dropped so far: max-queued frames are waiting to be written "
              "(the property 'dropped' counts them)", writer->counts ().dropped));
    }
  }
  return GST_FLOW_OK;
}

/* At EOS the queue is written; then a "prnsave" element message gives the
 * counts. A flush ends the wait. */
static gboolean
gst_prn_save_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstPrnSave *self = GST_PRN_SAVE (trans);
  prn::SaveWriter *writer = self->writer;

  if (const auto change = prn::flush_wait_change (event)) {
    prn::change_eos_wait (GST_OBJECT (self), *change, [self] { return self->writer; });
  } else if (writer != nullptr && GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_OBJECT_LOCK (self);
    const guint timeout_ms = self->settings->flush_timeout;
    GST_OBJECT_UNLOCK (self);
    prn::wait_for_worker_at_eos (GST_ELEMENT (self), *writer, timeout_ms, "prnsave", "saved",
        "frames were not saved");
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* PAUSED to READY: an EOS waiting for the queue holds the stream lock that the
 * pads' deactivation needs; end the wait first. */
static GstStateChangeReturn
gst_prn_save_change_state (GstElement * element, GstStateChange transition)
{
  GstPrnSave *self = GST_PRN_SAVE (element);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    prn::change_eos_wait (GST_OBJECT (self), prn::WaitChange::LEAVING_PAUSED,
        [self] { return self->writer; });
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_prn_save_finalize (GObject * object)
{
  GstPrnSave *self = GST_PRN_SAVE (object);

  delete self->writer;          /* stop() has deleted it; only for an element never stopped */
  delete self->settings;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_prn_save_class_init (GstPrnSaveClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_prn_save_debug, "prnsave", 0, "prnanomaly frames to a folder");

  gobject_class->set_property = gst_prn_save_set_property;
  gobject_class->get_property = gst_prn_save_get_property;
  gobject_class->finalize = gst_prn_save_finalize;
  install_properties (gobject_class);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_prn_save_change_state);

  gst_element_class_set_static_metadata (element_class, "PRN anomaly frame saver",
      "Filter/Analyzer/Video", "Saves the frames prnanomaly finds anomalous to a folder: PNG "
      "frame, heatmap and JSON meta, the disk use bounded", "prnanomaly developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_prn_save_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_prn_save_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_prn_save_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_prn_save_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_prn_save_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;
}

static void
gst_prn_save_init (GstPrnSave * self)
{
  self->settings = new SaveSettings ();
  self->writer = nullptr;
  self->last = {};
  gst_video_info_init (&self->info);
  self->drop_warned_at = -1;

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
