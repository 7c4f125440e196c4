/* prnsim: simulated line-camera sources for testing and demonstrating the
 * prnanomaly elements without a camera. One GObject type per file, registered
 * here. */
#include <gst/gst.h>

#include "gstprnwebsrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  return GST_ELEMENT_REGISTER (prnwebsrc, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, prnsim,
    "Simulated line-camera sources: images and generated webs with planted defects",
    plugin_init, VERSION, PRN_GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
