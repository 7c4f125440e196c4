// prnanomaly element: its properties (ids, defaults, specs) and the settings
// they hold. The element keeps one PrnAnomalySettings under its object lock.
#pragma once

#include "engine.h"

#include <glib-object.h>

#include <string>

G_BEGIN_DECLS
#define GST_TYPE_PRN_ANOMALY_MODE (gst_prn_anomaly_mode_get_type ())
GType gst_prn_anomaly_mode_get_type (void);
#define GST_TYPE_PRN_ANOMALY_MESSAGES (gst_prn_anomaly_messages_get_type ())
GType gst_prn_anomaly_messages_get_type (void);
#define GST_TYPE_PRN_ANOMALY_PRECISION (gst_prn_anomaly_precision_get_type ())
GType gst_prn_anomaly_precision_get_type (void);
G_END_DECLS

namespace prn::gst {

enum {
  PROP_0,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_MODE,
  PROP_SCALE,
  PROP_TILE_SIZE,
  PROP_TILE_OVERLAP,
  PROP_BATCH_SIZE,
  PROP_THRESHOLD,
  PROP_PIXEL_THRESHOLD,
  PROP_MIN_REGION_AREA,
  PROP_MAX_REGION_ROWS,
  PROP_MESSAGES,
  PROP_MAX_INFLIGHT,
  PROP_WARM_UP,
  PROP_THREADS,
  PROP_PRECISION,
  PROP_CUDA_GRAPHS,
  PROP_MODEL_ID,
};

#define DEFAULT_PROP_MODEL NULL
#define DEFAULT_PROP_DEVICE "auto"
#define DEFAULT_PROP_MODE 0 /* lines */
#define DEFAULT_PROP_SCALE 1.0
#define DEFAULT_PROP_TILE_SIZE 0
#define DEFAULT_PROP_TILE_OVERLAP -1
#define DEFAULT_PROP_BATCH_SIZE 8
#define DEFAULT_PROP_THRESHOLD -1.0
#define DEFAULT_PROP_PIXEL_THRESHOLD -1.0
#define DEFAULT_PROP_MIN_REGION_AREA 16
#define DEFAULT_PROP_MAX_REGION_ROWS 0
#define DEFAULT_PROP_MESSAGES 1 /* regions */
#define DEFAULT_PROP_MAX_INFLIGHT 0
#define DEFAULT_PROP_WARM_UP TRUE
#define DEFAULT_PROP_THREADS 0
#define DEFAULT_PROP_PRECISION 0 /* fp32 */
#define DEFAULT_PROP_CUDA_GRAPHS FALSE

struct PrnAnomalySettings {
  std::string model;
  std::string device = DEFAULT_PROP_DEVICE;
  int mode = DEFAULT_PROP_MODE;
  double scale = DEFAULT_PROP_SCALE;
  unsigned tile_size = DEFAULT_PROP_TILE_SIZE;
  int tile_overlap = DEFAULT_PROP_TILE_OVERLAP;
  unsigned batch_size = DEFAULT_PROP_BATCH_SIZE;
  float threshold = DEFAULT_PROP_THRESHOLD;             // < 0: the bundle's
  float pixel_threshold = DEFAULT_PROP_PIXEL_THRESHOLD; // < 0: the bundle's
  unsigned min_region_area = DEFAULT_PROP_MIN_REGION_AREA;
  unsigned max_region_rows = DEFAULT_PROP_MAX_REGION_ROWS;
  int messages = DEFAULT_PROP_MESSAGES;
  unsigned max_inflight = DEFAULT_PROP_MAX_INFLIGHT;
  bool warm_up = DEFAULT_PROP_WARM_UP;
  unsigned threads = DEFAULT_PROP_THREADS;
  int precision = DEFAULT_PROP_PRECISION;
  bool cuda_graphs = DEFAULT_PROP_CUDA_GRAPHS;
  std::string model_id; // read-only, set by start()
};

// What a buffer is scored and reported with: the PLAYING (controllable)
// properties as they were when the buffer came in.
struct BufferSettings {
  float threshold = DEFAULT_PROP_THRESHOLD;
  float pixel_threshold = DEFAULT_PROP_PIXEL_THRESHOLD;
  unsigned min_region_area = DEFAULT_PROP_MIN_REGION_AREA;
  int messages = DEFAULT_PROP_MESSAGES;
};

inline BufferSettings buffer_settings (const PrnAnomalySettings & s)
{
  return {s.threshold, s.pixel_threshold, s.min_region_area, s.messages};
}

void install_properties (GObjectClass * klass);
// Under the object lock. False for an unknown id.
bool set_prop (PrnAnomalySettings & s, guint id, const GValue * value);
bool get_prop (const PrnAnomalySettings & s, guint id, GValue * value);
EngineSettings engine_settings (const PrnAnomalySettings & s);

} // namespace prn::gst
