/* prnline: prnmqtt publishes the GstPrnAnomalyMeta of each buffer to an MQTT broker. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_PRN_MQTT (gst_prn_mqtt_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnMqtt, gst_prn_mqtt, GST, PRN_MQTT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (prnmqtt);

G_END_DECLS
