/* prnline: prnreject turns GstPrnAnomalyMeta into timed actuator pulses. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

/* Which detections ask for a pulse (the "trigger" property). */
typedef enum {
  GST_PRN_REJECT_TRIGGER_REGIONS = 0,
  GST_PRN_REJECT_TRIGGER_ANOMALOUS_BUFFERS = 1,
} GstPrnRejectTrigger;

#define GST_TYPE_PRN_REJECT_TRIGGER (gst_prn_reject_trigger_get_type ())
GType gst_prn_reject_trigger_get_type (void);

/* Where a fire goes (the "output" property). */
typedef enum {
  GST_PRN_REJECT_OUTPUT_MESSAGE = (1 << 0),
  GST_PRN_REJECT_OUTPUT_UDP = (1 << 1),
  GST_PRN_REJECT_OUTPUT_STDOUT = (1 << 2),
  GST_PRN_REJECT_OUTPUT_GPIO = (1 << 3),
} GstPrnRejectOutput;

#define GST_TYPE_PRN_REJECT_OUTPUT (gst_prn_reject_output_get_type ())
GType gst_prn_reject_output_get_type (void);

#define GST_TYPE_PRN_REJECT (gst_prn_reject_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnReject, gst_prn_reject, GST, PRN_REJECT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (prnreject);

G_END_DECLS
