/* The "prnanomaly" plugin: the PRN inference element. */
#include "gstprnanomaly.h"

#include <gst/gst.h>

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (prnanomaly, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, prnanomaly,
    "Anomaly detection and localisation for line-camera streams (Prototypical Residual Networks)",
    plugin_init, VERSION, PRN_GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
