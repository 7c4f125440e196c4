/* prnline: the colour maps of the heatmap overlay. The tables themselves
 * (jet, inferno, turbo) are computed by prn/ops/colormap_lut.h, a plain C++
 * header of the core that the colormap_blend op uses too: one implementation,
 * without prnline linking LibTorch (see docs/ops.md, "Post-processing ops"). */
#include "prncolormap.h"

#include <prn/ops/colormap_lut.h>

static_assert (sizeof (guint8) == sizeof (uint8_t), "the tables are bytes");

const guint8 *
prn_colormap_lut (PrnColormap colormap)
{
  prn::ops::Colormap map = prn::ops::Colormap::Jet;
  if (colormap == PRN_COLORMAP_INFERNO)
    map = prn::ops::Colormap::Inferno;
  else if (colormap == PRN_COLORMAP_TURBO)
    map = prn::ops::Colormap::Turbo;
  return prn::ops::colormap_lut (map).data ();
}
