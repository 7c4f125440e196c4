/* prnline: 256-entry colour maps for the anomaly heatmap overlay. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PRN_COLORMAP_JET = 0,
  PRN_COLORMAP_INFERNO = 1,
  PRN_COLORMAP_TURBO = 2,
} PrnColormap;

/* 256 RGB triplets (768 bytes): entry 0 is the coldest colour, entry 255 the
 * hottest. Computed once per process; the table stays valid for its lifetime. */
const guint8 *prn_colormap_lut (PrnColormap colormap);

G_END_DECLS
