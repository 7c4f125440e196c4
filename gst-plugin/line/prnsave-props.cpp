#include "prnsave-props.h"

#include "prnline-common.h"

namespace prn::save {

void
install_properties (GObjectClass * klass)
{
  const GParamFlags ready = prn::PROP_FLAGS_READY;
  const GParamFlags playing = prn::PROP_FLAGS_PLAYING;
  const GParamFlags read_only = static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (klass, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "The folder the frames are saved in "
          "(created when missing)", nullptr, ready));
  g_object_class_install_property (klass, PROP_PREFIX,
      g_param_spec_string ("prefix", "Prefix", "What the file names begin with (letters, "
          "digits, '-', '_', '.'); only sets of this prefix count for max-files",
          DEFAULT_PROP_PREFIX, ready));
  g_object_class_install_property (klass, PROP_WHAT,
      g_param_spec_enum ("what", "What", "Which buffers are saved: those where a region "
          "ended, anomalous ones, or every buffer with a meta", GST_TYPE_PRN_JSON_LINES_WHAT,
          DEFAULT_PROP_WHAT, playing));
  g_object_class_install_property (klass, PROP_HEATMAP,
      g_param_spec_boolean ("heatmap", "Heatmap", "Also save the heatmap, in colour, as "
          "<name>-heatmap.png (as wide as the frame)", DEFAULT_PROP_HEATMAP, playing));
  g_object_class_install_property (klass, PROP_COLORMAP,
      g_param_spec_enum ("colormap", "Colour map", "Colour map of the saved heatmap",
          GST_TYPE_PRN_OVERLAY_COLORMAP, DEFAULT_PROP_COLORMAP, ready));
  g_object_class_install_property (klass, PROP_MAX_FILES,
      g_param_spec_uint ("max-files", "Max files", "Sets (frame, heatmap, JSON) kept in the "
          "folder, earlier runs' included; the oldest are deleted beyond (0: no limit)", 0,
          G_MAXUINT, DEFAULT_PROP_MAX_FILES, ready));
  g_object_class_install_property (klass, PROP_MAX_QUEUED,
      g_param_spec_uint ("max-queued", "Max queued", "Frames waiting to be written at most; "
          "beyond (a slow disk), frames are dropped and counted, never the stream held up",
          1, 1024, DEFAULT_PROP_MAX_QUEUED, ready));
  g_object_class_install_property (klass, PROP_COMPRESSION,
      g_param_spec_int ("compression", "Compression", "zlib level of the PNG files: 0 none "
          "(fastest, largest) to 9 (slowest, smallest)", 0, 9, DEFAULT_PROP_COMPRESSION, ready));
  g_object_class_install_property (klass, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush timeout", "Milliseconds EOS waits at most for "
          "the frames queued so far to be written", 0, 600000, DEFAULT_PROP_FLUSH_TIMEOUT, playing));
  g_object_class_install_property (klass, PROP_SAVED,
      g_param_spec_uint64 ("saved", "Saved", "Frames saved since start (kept after stop)",
          0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (klass, PROP_FAILED,
      g_param_spec_uint64 ("failed", "Failed", "Frames that could not be written since start "
          "(disk full, the folder replaced by a file)", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (klass, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped", "Frames not saved because max-queued frames "
          "were waiting, or still waiting at stop", 0, G_MAXUINT64, 0, read_only));
}

bool
set_prop (SaveSettings & s, guint id, const GValue * value)
{
  switch (id) {
    case PROP_LOCATION: s.location = prn::optional_string (value); return true;
    case PROP_PREFIX: s.prefix = prn::optional_string (value); return true;
    case PROP_WHAT: s.what = static_cast<GstPrnJsonLinesWhat> (g_value_get_enum (value)); return true;
    case PROP_HEATMAP: s.heatmap = g_value_get_boolean (value); return true;
    case PROP_COLORMAP:
      s.colormap = static_cast<GstPrnOverlayColormap> (g_value_get_enum (value));
      return true;
    case PROP_MAX_FILES: s.max_files = g_value_get_uint (value); return true;
    case PROP_MAX_QUEUED: s.max_queued = g_value_get_uint (value); return true;
    case PROP_COMPRESSION: s.compression = g_value_get_int (value); return true;
    case PROP_FLUSH_TIMEOUT: s.flush_timeout = g_value_get_uint (value); return true;
    default: return false;
  }
}

bool
get_prop (const SaveSettings & s, guint id, GValue * value)
{
  switch (id) {
    case PROP_LOCATION: prn::set_optional_string (value, s.location); return true;
    case PROP_PREFIX: prn::set_optional_string (value, s.prefix); return true;
    case PROP_WHAT: g_value_set_enum (value, s.what); return true;
    case PROP_HEATMAP: g_value_set_boolean (value, s.heatmap); return true;
    case PROP_COLORMAP: g_value_set_enum (value, s.colormap); return true;
    case PROP_MAX_FILES: g_value_set_uint (value, s.max_files); return true;
    case PROP_MAX_QUEUED: g_value_set_uint (value, s.max_queued); return true;
    case PROP_COMPRESSION: g_value_set_int (value, s.compression); return true;
    case PROP_FLUSH_TIMEOUT: g_value_set_uint (value, s.flush_timeout); return true;
    default: return false;
  }
}

}  // namespace prn::save
