/* prnsave element: its properties (ids, defaults, specs) and the settings they
 * hold. The element keeps one SaveSettings under its object lock; the counters
 * (saved, failed, dropped) are read from its writer. */
#pragma once

#include "gstprnjsonlines.h"
#include "gstprnoverlay.h"

#include <optional>
#include <string>

namespace prn::save {

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_PREFIX,
  PROP_WHAT,
  PROP_HEATMAP,
  PROP_COLORMAP,
  PROP_MAX_FILES,
  PROP_MAX_QUEUED,
  PROP_COMPRESSION,
  PROP_FLUSH_TIMEOUT,
  PROP_SAVED,
  PROP_FAILED,
  PROP_DROPPED,
};

#define DEFAULT_PROP_PREFIX "prn"
#define DEFAULT_PROP_WHAT GST_PRN_JSON_LINES_WHAT_ANOMALOUS_BUFFERS
#define DEFAULT_PROP_HEATMAP TRUE
#define DEFAULT_PROP_COLORMAP GST_PRN_OVERLAY_COLORMAP_JET
#define DEFAULT_PROP_MAX_FILES 10000
#define DEFAULT_PROP_MAX_QUEUED 16
#define DEFAULT_PROP_COMPRESSION 1
#define DEFAULT_PROP_FLUSH_TIMEOUT 10000

struct SaveSettings {
  std::optional<std::string> location;   /* nullopt: NULL (the default) */
  std::optional<std::string> prefix = DEFAULT_PROP_PREFIX;
  GstPrnJsonLinesWhat what = DEFAULT_PROP_WHAT;
  gboolean heatmap = DEFAULT_PROP_HEATMAP;
  GstPrnOverlayColormap colormap = DEFAULT_PROP_COLORMAP;
  guint max_files = DEFAULT_PROP_MAX_FILES;
  guint max_queued = DEFAULT_PROP_MAX_QUEUED;
  gint compression = DEFAULT_PROP_COMPRESSION;
  guint flush_timeout = DEFAULT_PROP_FLUSH_TIMEOUT;
};

void install_properties (GObjectClass * klass);
/* Under the object lock. False for an id that is not a setting. */
bool set_prop (SaveSettings & s, guint id, const GValue * value);
bool get_prop (const SaveSettings & s, guint id, GValue * value);

}  // namespace prn::save
