/* prnline: what prnsave copies out of a buffer to save it later: the frame's
 * pixels (in a format PNG holds) and the meta's heatmap. */
#pragma once

#include <gst/video/video.h>
#include <prnanomaly/gstprnanomalymeta.h>

#include <optional>

#include "prnsave-image.h"
#include "prnsave-writer.h"

/* The formats prnsave accepts: prnanomaly's and prnoverlay's. */
#define PRN_SAVE_FORMATS "{ GRAY8, GRAY16_LE, RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }"

namespace prn {

/* The frame's pixels, rows packed: GRAY8 and GRAY16_LE as grey; the RGB formats
 * as RGB8, those with alpha as RGBA8. */
SaveImage save_image_of (const GstVideoFrame & frame);

/* The meta's heatmap, or nullopt when it carries none. */
std::optional<SaveHeatmap> save_heatmap_of (const GstPrnAnomalyMeta * meta);

}  // namespace prn
