/* The "prnanomaly" plugin: the PRN inference element. */
#include "gstprnanomaly.h"

#include <gst/gst.h>
#include <torch/cuda.h>

GST_DEBUG_CATEGORY_STATIC (prn_plugin_debug);

static gboolean
plugin_init (GstPlugin * plugin)
{
  GST_DEBUG_CATEGORY_INIT (prn_plugin_debug, "prnanomaly-plugin", 0, "prnanomaly plugin loading");
  /* The plugin loads without CUDA (no driver, no GPU, a CPU-only LibTorch):
   * device=auto then runs on the CPU, device=cuda is an element error at start. */
  if (!torch::cuda::is_available ())
    GST_CAT_WARNING (prn_plugin_debug, "CUDA is not available: prnanomaly runs on the CPU");
  return GST_ELEMENT_REGISTER (prnanomaly, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, prnanomaly,
    "Anomaly detection and localisation for line-camera streams (Prototypical Residual Networks)",
    plugin_init, VERSION, PRN_GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
