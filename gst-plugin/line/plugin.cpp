/* prnline: the elements that read GstPrnAnomalyMeta downstream of prnanomaly.
 * They need no LibTorch; one GObject type per file, registered here. */
#include <gst/gst.h>

#include "gstprnjsonlines.h"
#include "gstprnoverlay.h"
#include "gstprnreject.h"
#include "gstprnsave.h"
#ifdef HAVE_LIBCURL
#include <curl/curl.h>

#include "gstprnwebhook.h"
#endif
#ifdef HAVE_MOSQUITTO
#include <mosquitto.h>

#include "gstprnmqtt.h"
#endif

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (prnoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (prnjsonlines, plugin);
  ret |= GST_ELEMENT_REGISTER (prnreject, plugin);
  ret |= GST_ELEMENT_REGISTER (prnsave, plugin);
#ifdef HAVE_MOSQUITTO
  /* Once per process, before any client exists (not thread safe); plugins are
   * loaded once and never unloaded, so there is no matching cleanup. */
  if (mosquitto_lib_init () == MOSQ_ERR_SUCCESS)
    ret |= GST_ELEMENT_REGISTER (prnmqtt, plugin);
  else
    GST_WARNING ("libmosquitto did not initialise: prnmqtt is not available");
#endif
#ifdef HAVE_LIBCURL
  /* Once per process, like libmosquitto's, before any request. */
  if (curl_global_init (CURL_GLOBAL_DEFAULT) == CURLE_OK)
    ret |= GST_ELEMENT_REGISTER (prnwebhook, plugin);
  else
    GST_WARNING ("libcurl did not initialise: prnwebhook is not available");
#endif
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, prnline,
    "Line-camera anomaly companions: overlay of prnanomaly results, JSON lines, "
    "reject actuator, MQTT publisher, webhook, frames saved to a folder",
    plugin_init, VERSION, PRN_GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
