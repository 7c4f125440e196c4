/* prnline: prnjsonlines writes the GstPrnAnomalyMeta of each buffer as JSON lines. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

/* What one line describes (the "what" property). */
typedef enum {
  GST_PRN_JSON_LINES_WHAT_REGIONS = 0,
  GST_PRN_JSON_LINES_WHAT_ANOMALOUS_BUFFERS = 1,
  GST_PRN_JSON_LINES_WHAT_BUFFERS = 2,
} GstPrnJsonLinesWhat;

#define GST_TYPE_PRN_JSON_LINES_WHAT (gst_prn_json_lines_what_get_type ())
GType gst_prn_json_lines_what_get_type (void);

#define GST_TYPE_PRN_JSON_LINES (gst_prn_json_lines_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnJsonLines, gst_prn_json_lines, GST, PRN_JSON_LINES,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (prnjsonlines);

G_END_DECLS
