/* prnanomaly: the element that scores line-camera streams with a PRN model bundle. */
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_PRN_ANOMALY (gst_prn_anomaly_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnAnomaly, gst_prn_anomaly, GST, PRN_ANOMALY, GstBaseTransform)

/* How the element reads consecutive buffers. */
typedef enum {
  GST_PRN_ANOMALY_MODE_LINES, /* one continuous web (line-scan cameras) */
  GST_PRN_ANOMALY_MODE_FRAME, /* independent images (area cameras) */
} GstPrnAnomalyMode;

/* Which element messages are posted on the bus. */
typedef enum {
  GST_PRN_ANOMALY_MESSAGES_NONE,
  GST_PRN_ANOMALY_MESSAGES_REGIONS,          /* one per anomalous region */
  GST_PRN_ANOMALY_MESSAGES_ANOMALOUS_BUFFERS, /* one per anomalous buffer */
  GST_PRN_ANOMALY_MESSAGES_BUFFERS,          /* one per buffer */
} GstPrnAnomalyMessages;

/* The arithmetic the model runs in (autocast; weights stay float32). */
typedef enum {
  GST_PRN_ANOMALY_PRECISION_FP32,
  GST_PRN_ANOMALY_PRECISION_BF16, /* CPU (fast with AVX-512 BF16 or AMX) and CUDA */
  GST_PRN_ANOMALY_PRECISION_FP16, /* CUDA only */
} GstPrnAnomalyPrecision;

GST_ELEMENT_REGISTER_DECLARE (prnanomaly);

G_END_DECLS
