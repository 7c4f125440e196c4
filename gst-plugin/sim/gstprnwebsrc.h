/* prnsim: prnwebsrc plays a large image, or a generated texture web with planted
 * defects, as a line-scan stream. */
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_PRN_WEB_SRC (gst_prn_web_src_get_type ())
G_DECLARE_FINAL_TYPE (GstPrnWebSrc, gst_prn_web_src, GST, PRN_WEB_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (prnwebsrc);

G_END_DECLS
