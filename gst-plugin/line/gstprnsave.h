/* prnline: prnsave writes the buffers prnanomaly finds anomalous to a folder. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_PRN_SAVE (gst_prn_save_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnSave, gst_prn_save, GST, PRN_SAVE, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (prnsave);

G_END_DECLS
