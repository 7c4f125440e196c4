/* prnline: the elements that read GstPrnAnomalyMeta downstream of prnanomaly.
 * They need no LibTorch; one GObject type per file, registered here. */
#include <gst/gst.h>

#include "gstprnjsonlines.h"
#include "gstprnoverlay.h"
#include "gstprnreject.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (prnoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (prnjsonlines, plugin);
  ret |= GST_ELEMENT_REGISTER (prnreject, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, prnline,
    "Line-camera anomaly companions: overlay of prnanomaly results, JSON lines, "
    "reject actuator",
    plugin_init, VERSION, PRN_GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
