#include "prnanomaly-props.h"

#include "gstprnanomaly.h"

#include <gst/gst.h>

GType
gst_prn_anomaly_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_PRN_ANOMALY_MODE_LINES, "Consecutive buffers are one continuous web (line-scan cameras)", "lines"},
    {GST_PRN_ANOMALY_MODE_FRAME, "Each buffer is an independent image, resized to the model input", "frame"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstPrnAnomalyMode", values));
  return type;
}

GType
gst_prn_anomaly_messages_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_PRN_ANOMALY_MESSAGES_NONE, "No messages", "none"},
    {GST_PRN_ANOMALY_MESSAGES_REGIONS, "One message per anomalous region", "regions"},
    {GST_PRN_ANOMALY_MESSAGES_ANOMALOUS_BUFFERS, "One message per anomalous buffer", "anomalous-buffers"},
    {GST_PRN_ANOMALY_MESSAGES_BUFFERS, "One message per buffer", "buffers"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstPrnAnomalyMessages", values));
  return type;
}

GType
gst_prn_anomaly_precision_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_PRN_ANOMALY_PRECISION_FP32, "32-bit floats", "fp32"},
    {GST_PRN_ANOMALY_PRECISION_BF16, "bfloat16 autocast (CPU and CUDA)", "bf16"},
    {GST_PRN_ANOMALY_PRECISION_FP16, "float16 autocast (CUDA only)", "fp16"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstPrnAnomalyPrecision", values));
  return type;
}

namespace prn::gst {

void
install_properties (GObjectClass * klass)
{
  const GParamFlags rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const GParamFlags ready = (GParamFlags) (rw | GST_PARAM_MUTABLE_READY);
  const GParamFlags playing = (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING | GST_PARAM_CONTROLLABLE);

  g_object_class_install_property (klass, PROP_MODEL,
      g_param_spec_string ("model", "Model bundle",
          "Path of the model bundle written by prn-train (loaded at READY->PAUSED)", DEFAULT_PROP_MODEL, ready));
  g_object_class_install_property (klass, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Where the model runs: auto (CUDA when LibTorch sees a GPU, else CPU), cpu, cuda or cuda:N",
          DEFAULT_PROP_DEVICE, ready));
  g_object_class_install_property (klass, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "How consecutive buffers relate", GST_TYPE_PRN_ANOMALY_MODE,
          DEFAULT_PROP_MODE, ready));
  g_object_class_install_property (klass, PROP_SCALE,
      g_param_spec_double ("scale", "Scale",
          "Camera pixels per model pixel (lines mode): a tile covers model-input-side * scale camera pixels",
          0.01, 64.0, DEFAULT_PROP_SCALE, ready));
  g_object_class_install_property (klass, PROP_TILE_SIZE,
      g_param_spec_uint ("tile-size", "Tile size",
          "Side of a tile in camera pixels (lines mode); overrides scale (scale = tile-size / model input side). "
          "0: from scale", 0, 65536, DEFAULT_PROP_TILE_SIZE, ready));
  g_object_class_install_property (klass, PROP_TILE_OVERLAP,
      g_param_spec_int ("tile-overlap", "Tile overlap",
          "Camera pixels neighbouring tiles share, across the web and along the motion; -1: a quarter tile",
          -1, 65535, DEFAULT_PROP_TILE_OVERLAP, ready));
  g_object_class_install_property (klass, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size", "Tiles per model call", 1, 1024, DEFAULT_PROP_BATCH_SIZE,
          ready));
  g_object_class_install_property (klass, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold",
          "Raw image score at or above which a buffer is anomalous; -1: the bundle's calibrated threshold",
          -1.0, 1.0, DEFAULT_PROP_THRESHOLD, playing));
  g_object_class_install_property (klass, PROP_PIXEL_THRESHOLD,
      g_param_spec_double ("pixel-threshold", "Pixel threshold",
          "Raw pixel score at or above which a pixel belongs to an anomalous region; -1: the bundle's calibrated "
          "pixel threshold", -1.0, 1.0, DEFAULT_PROP_PIXEL_THRESHOLD, playing));
  g_object_class_install_property (klass, PROP_MIN_REGION_AREA,
      g_param_spec_uint ("min-region-area", "Minimum region area",
          "Regions smaller than this many camera pixels are not reported", 1, G_MAXUINT,
          DEFAULT_PROP_MIN_REGION_AREA, playing));
  g_object_class_install_property (klass, PROP_MAX_REGION_ROWS,
      g_param_spec_uint ("max-region-rows", "Maximum region rows",
          "A region longer than this many rows is reported in segments (so endless streaks are reported); "
          "0: four tiles", 0, G_MAXUINT, DEFAULT_PROP_MAX_REGION_ROWS, ready));
  g_object_class_install_property (klass, PROP_MESSAGES,
      g_param_spec_enum ("messages", "Messages", "Element messages posted on the bus",
          GST_TYPE_PRN_ANOMALY_MESSAGES, DEFAULT_PROP_MESSAGES, playing));
  g_object_class_install_property (klass, PROP_MAX_INFLIGHT,
      g_param_spec_uint ("max-inflight", "Maximum buffers in flight",
          "0: score in the streaming thread. N > 0: score on a worker thread of the element that pushes "
          "buffers downstream as soon as their rows are final; upstream waits only while N buffers are queued",
          0, 1024, DEFAULT_PROP_MAX_INFLIGHT, ready));
  g_object_class_install_property (klass, PROP_WARM_UP,
      g_param_spec_boolean ("warm-up", "Warm up",
          "When a web starts (caps), run each model call shape once on blank tiles before the first buffer: "
          "the first call's kernel set-up (oneDNN primitives, cuDNN algorithm search) then does not hold up the "
          "first camera rows, and the LATENCY query reports a measured processing time from the start",
          DEFAULT_PROP_WARM_UP, ready));
  g_object_class_install_property (klass, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "Intra-op threads of the thread that scores (0: LibTorch's default, the CPUs or OMP_NUM_THREADS). "
          "With several prnanomaly elements in one process, give each a share of the cores",
          0, 1024, DEFAULT_PROP_THREADS, ready));
  g_object_class_install_property (klass, PROP_PRECISION,
      g_param_spec_enum ("precision", "Precision",
          "Arithmetic of the model's convolutions and matrix products (autocast; heatmaps and scores stay "
          "32-bit): fp32 (on the CPU its wider convolutions run by Winograd's algorithm); bf16, for CUDA (on "
          "a CPU with AVX-512 BF16 it measured no faster than fp32); fp16, CUDA "
          "only. The heatmaps move by a few hundredths: calibrate the thresholds in the precision you run "
          "(docs/performance.md measures the difference)",
          GST_TYPE_PRN_ANOMALY_PRECISION, DEFAULT_PROP_PRECISION, ready));
  g_object_class_install_property (klass, PROP_CUDA_GRAPHS,
      g_param_spec_boolean ("cuda-graphs", "CUDA graphs",
          "On a CUDA device, capture the model's call for each tile batch size in a CUDA graph (at warm-up, "
          "or at its first call) and replay it: one launch per call instead of hundreds, for small tiles "
          "and large batches. The graphs keep their memory while the element runs. Ignored on the CPU",
          DEFAULT_PROP_CUDA_GRAPHS, ready));
  g_object_class_install_property (klass, PROP_MODEL_ID,
      g_param_spec_string ("model-id", "Model id", "Id of the loaded bundle's weights (after READY->PAUSED)",
          NULL, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}

bool
set_prop (PrnAnomalySettings & s, guint id, const GValue * value)
{
  switch (id) {
    case PROP_MODEL: {
      const gchar *v = g_value_get_string (value);
      s.model = v ? v : "";
      return true;
    }
    case PROP_DEVICE: {
      const gchar *v = g_value_get_string (value);
      s.device = v ? v : DEFAULT_PROP_DEVICE;
      return true;
    }
    case PROP_MODE: s.mode = g_value_get_enum (value); return true;
    case PROP_SCALE: s.scale = g_value_get_double (value); return true;
    case PROP_TILE_SIZE: s.tile_size = g_value_get_uint (value); return true;
    case PROP_TILE_OVERLAP: s.tile_overlap = g_value_get_int (value); return true;
    case PROP_BATCH_SIZE: s.batch_size = g_value_get_uint (value); return true;
    case PROP_THRESHOLD: s.threshold = (float) g_value_get_double (value); return true;
    case PROP_PIXEL_THRESHOLD: s.pixel_threshold = (float) g_value_get_double (value); return true;
    case PROP_MIN_REGION_AREA: s.min_region_area = g_value_get_uint (value); return true;
    case PROP_MAX_REGION_ROWS: s.max_region_rows = g_value_get_uint (value); return true;
    case PROP_MESSAGES: s.messages = g_value_get_enum (value); return true;
    case PROP_MAX_INFLIGHT: s.max_inflight = g_value_get_uint (value); return true;
    case PROP_WARM_UP: s.warm_up = g_value_get_boolean (value); return true;
    case PROP_THREADS: s.threads = g_value_get_uint (value); return true;
    case PROP_PRECISION: s.precision = g_value_get_enum (value); return true;
    case PROP_CUDA_GRAPHS: s.cuda_graphs = g_value_get_boolean (value); return true;
    default: return false;
  }
}

bool
get_prop (const PrnAnomalySettings & s, guint id, GValue * value)
{
  switch (id) {
    case PROP_MODEL: g_value_set_string (value, s.model.empty () ? NULL : s.model.c_str ()); return true;
    case PROP_DEVICE: g_value_set_string (value, s.device.c_str ()); return true;
    case PROP_MODE: g_value_set_enum (value, s.mode); return true;
    case PROP_SCALE: g_value_set_double (value, s.scale); return true;
    case PROP_TILE_SIZE: g_value_set_uint (value, s.tile_size); return true;
    case PROP_TILE_OVERLAP: g_value_set_int (value, s.tile_overlap); return true;
    case PROP_BATCH_SIZE: g_value_set_uint (value, s.batch_size); return true;
    case PROP_THRESHOLD: g_value_set_double (value, s.threshold); return true;
    case PROP_PIXEL_THRESHOLD: g_value_set_double (value, s.pixel_threshold); return true;
    case PROP_MIN_REGION_AREA: g_value_set_uint (value, s.min_region_area); return true;
    case PROP_MAX_REGION_ROWS: g_value_set_uint (value, s.max_region_rows); return true;
    case PROP_MESSAGES: g_value_set_enum (value, s.messages); return true;
    case PROP_MAX_INFLIGHT: g_value_set_uint (value, s.max_inflight); return true;
    case PROP_WARM_UP: g_value_set_boolean (value, s.warm_up); return true;
    case PROP_THREADS: g_value_set_uint (value, s.threads); return true;
    case PROP_PRECISION: g_value_set_enum (value, s.precision); return true;
    case PROP_CUDA_GRAPHS: g_value_set_boolean (value, s.cuda_graphs); return true;
    case PROP_MODEL_ID: g_value_set_string (value, s.model_id.empty () ? NULL : s.model_id.c_str ()); return true;
    default: return false;
  }
}

EngineSettings
engine_settings (const PrnAnomalySettings & s)
{
  EngineSettings e;
  e.model = s.model;
  e.device = s.device;
  e.mode = s.mode == GST_PRN_ANOMALY_MODE_FRAME ? Mode::Frame : Mode::Lines;
  e.scale = s.scale;
  e.tile_size = s.tile_size;
  e.overlap = s.tile_overlap;
  e.batch = s.batch_size;
  e.max_region_rows = s.max_region_rows;
  e.warm_up = s.warm_up;
  e.threads = static_cast<int> (s.threads);
  e.precision = s.precision == GST_PRN_ANOMALY_PRECISION_BF16 ? Precision::BFloat16
      : s.precision == GST_PRN_ANOMALY_PRECISION_FP16 ? Precision::Float16 : Precision::Float32;
  e.cuda_graphs = s.cuda_graphs;
  return e;
}

} // namespace prn::gst
