/* prnwebsrc: property specs and their values. */
#include "prnwebsrc-props.h"

#include <gst/gst.h>

namespace prn::sim {

namespace {

std::string
str (const GValue * value)
{
  const gchar *s = g_value_get_string (value);
  return s != nullptr ? s : "";
}

void
set_str (GValue * value, const std::string & s)
{
  g_value_set_string (value, s.empty () ? nullptr : s.c_str ());
}

}  // namespace

void
install_properties (GObjectClass * klass)
{
  const auto ready = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property (klass, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Image file (any OpenCV reads) played as the web, top to bottom; its ground truth: "
          "a sidecar <name>.truth.jsonl. Not with texture", DEFAULT_PROP_LOCATION, ready));
  g_object_class_install_property (klass, PROP_TEXTURE,
      g_param_spec_string ("texture", "Texture",
          "Texture file (.pat or image), or a system texture's name (burlap, Burlap.pat, "
          "Fabric/burlap), rendered as a web with planted defects. Not with location",
          DEFAULT_PROP_TEXTURE, ready));
  g_object_class_install_property (klass, PROP_WIDTH,
      g_param_spec_int ("width", "Width", "Generated web: width in pixels (the camera line)",
          1, 16384, DEFAULT_PROP_WIDTH, ready));
  g_object_class_install_property (klass, PROP_WEB_LINES,
      g_param_spec_int ("web-lines", "Web lines", "Generated web: length in lines "
          "(width x web-lines <= 2^27)", 1, G_MAXINT, DEFAULT_PROP_WEB_LINES, ready));
  g_object_class_install_property (klass, PROP_TILE,
      g_param_spec_int ("tile", "Tile", "Generated web: the texture and defect scale (the "
          "dataset generator's tile side); one defect per tile x tile cell at most",
          32, 4096, DEFAULT_PROP_TILE, ready));
  g_object_class_install_property (klass, PROP_DEFECTS,
      g_param_spec_int ("defects", "Defects", "Generated web: defects planted (none in its "
          "first tile lines)", 0, G_MAXINT, DEFAULT_PROP_DEFECTS, ready));
  g_object_class_install_property (klass, PROP_DEFECT_KINDS,
      g_param_spec_string ("defect-kinds", "Defect kinds", "Generated web: comma list of "
          "scratch, spot, hole, fold, cycled along the web", DEFAULT_PROP_DEFECT_KINDS, ready));
  g_object_class_install_property (klass, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed", "Generated web: the same settings and seed give "
          "the same web", 0, G_MAXUINT64, DEFAULT_PROP_SEED, ready));
  g_object_class_install_property (klass, PROP_LINES_PER_BUFFER,
      g_param_spec_int ("lines-per-buffer", "Lines per buffer", "Lines in each buffer "
          "(the caps height)", 1, 1 << 20, DEFAULT_PROP_LINES_PER_BUFFER, ready));
  g_object_class_install_property (klass, PROP_LINE_RATE,
      g_param_spec_uint ("line-rate", "Line rate", "Lines per second: timestamps, framerate "
          "and, with is-live, the pace (0: untimed buffers, framerate 0/1)", 0, G_MAXINT,
          DEFAULT_PROP_LINE_RATE, ready));
  g_object_class_install_property (klass, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live", "Act as a camera: release each buffer when "
          "its last line is captured, against the pipeline clock", DEFAULT_PROP_IS_LIVE, ready));
  g_object_class_install_property (klass, PROP_LOOP,
      g_param_spec_boolean ("loop", "Loop", "Replay the web without end (wrapping inside a "
          "buffer); row numbers and timestamps go on", DEFAULT_PROP_LOOP, ready));
  g_object_class_install_property (klass, PROP_TRUTH_LOCATION,
      g_param_spec_string ("truth-location", "Truth location", "File written at start: one "
          "JSON object per planted defect and line (kind, x, y, width, height, area, loop)",
          DEFAULT_PROP_TRUTH_LOCATION, ready));
}

bool
set_prop (WebSrcProps & p, guint id, const GValue * value)
{
  switch (id) {
    case PROP_LOCATION: p.location = str (value); return true;
    case PROP_TEXTURE: p.texture = str (value); return true;
    case PROP_WIDTH: p.width = g_value_get_int (value); return true;
    case PROP_WEB_LINES: p.web_lines = g_value_get_int (value); return true;
    case PROP_TILE: p.tile = g_value_get_int (value); return true;
    case PROP_DEFECTS: p.defects = g_value_get_int (value); return true;
    case PROP_DEFECT_KINDS: p.defect_kinds = str (value); return true;
    case PROP_SEED: p.seed = g_value_get_uint64 (value); return true;
    case PROP_LINES_PER_BUFFER: p.lines_per_buffer = g_value_get_int (value); return true;
    case PROP_LINE_RATE: p.line_rate = g_value_get_uint (value); return true;
    case PROP_LOOP: p.loop = g_value_get_boolean (value); return true;
    case PROP_TRUTH_LOCATION: p.truth_location = str (value); return true;
    default: return false;
  }
}

bool
get_prop (const WebSrcProps & p, guint id, GValue * value)
{
  switch (id) {
    case PROP_LOCATION: set_str (value, p.location); return true;
    case PROP_TEXTURE: set_str (value, p.texture); return true;
    case PROP_WIDTH: g_value_set_int (value, p.width); return true;
    case PROP_WEB_LINES: g_value_set_int (value, p.web_lines); return true;
    case PROP_TILE: g_value_set_int (value, p.tile); return true;
    case PROP_DEFECTS: g_value_set_int (value, p.defects); return true;
    case PROP_DEFECT_KINDS: set_str (value, p.defect_kinds); return true;
    case PROP_SEED: g_value_set_uint64 (value, p.seed); return true;
    case PROP_LINES_PER_BUFFER: g_value_set_int (value, p.lines_per_buffer); return true;
    case PROP_LINE_RATE: g_value_set_uint (value, p.line_rate); return true;
    case PROP_LOOP: g_value_set_boolean (value, p.loop); return true;
    case PROP_TRUTH_LOCATION: set_str (value, p.truth_location); return true;
    default: return false;
  }
}

WebSettings
web_settings (const WebSrcProps & p)
{
  WebSettings s;
  s.location = p.location;
  s.texture = p.texture;
  s.defect_kinds = p.defect_kinds;
  s.width = p.width;
  s.lines = p.web_lines;
  s.tile = p.tile;
  s.defects = p.defects;
  s.seed = p.seed;
  return s;
}

}  // namespace prn::sim
