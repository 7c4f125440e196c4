/* prnline: prnwebhook POSTs the GstPrnAnomalyMeta of each buffer to an HTTP URL. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_PRN_WEBHOOK (gst_prn_webhook_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnWebhook, gst_prn_webhook, GST, PRN_WEBHOOK, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (prnwebhook);

G_END_DECLS
