/* prnwebsrc: its properties (ids, defaults, specs) and the values they hold.
 * The element keeps one WebSrcProps under its object lock; is-live is
 * GstBaseSrc's own and is handled by the element. */
#pragma once

#include <glib-object.h>

#include <cstdint>
#include <string>

#include "prnwebsim.h"

namespace prn::sim {

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_TEXTURE,
  PROP_WIDTH,
  PROP_WEB_LINES,
  PROP_TILE,
  PROP_DEFECTS,
  PROP_DEFECT_KINDS,
  PROP_SEED,
  PROP_LINES_PER_BUFFER,
  PROP_LINE_RATE,
  PROP_IS_LIVE,
  PROP_LOOP,
  PROP_TRUTH_LOCATION,
};

#define DEFAULT_PROP_LOCATION nullptr
#define DEFAULT_PROP_TEXTURE nullptr
#define DEFAULT_PROP_WIDTH 2048
#define DEFAULT_PROP_WEB_LINES 8192
#define DEFAULT_PROP_TILE 256
#define DEFAULT_PROP_DEFECTS 12
#define DEFAULT_PROP_DEFECT_KINDS "scratch,spot,hole,fold"
#define DEFAULT_PROP_SEED 0
#define DEFAULT_PROP_LINES_PER_BUFFER 64
#define DEFAULT_PROP_LINE_RATE 10000
#define DEFAULT_PROP_IS_LIVE FALSE
#define DEFAULT_PROP_LOOP FALSE
#define DEFAULT_PROP_TRUTH_LOCATION nullptr

struct WebSrcProps {
  std::string location;         /* empty: NULL */
  std::string texture;
  gint width = DEFAULT_PROP_WIDTH;
  gint web_lines = DEFAULT_PROP_WEB_LINES;
  gint tile = DEFAULT_PROP_TILE;
  gint defects = DEFAULT_PROP_DEFECTS;
  std::string defect_kinds = DEFAULT_PROP_DEFECT_KINDS;
  guint64 seed = DEFAULT_PROP_SEED;
  gint lines_per_buffer = DEFAULT_PROP_LINES_PER_BUFFER;
  guint line_rate = DEFAULT_PROP_LINE_RATE;
  gboolean loop = DEFAULT_PROP_LOOP;
  std::string truth_location;
};

void install_properties (GObjectClass * klass);
/* Under the object lock. False for an id that is not here. */
bool set_prop (WebSrcProps & p, guint id, const GValue * value);
bool get_prop (const WebSrcProps & p, guint id, GValue * value);
/* What to play. */
WebSettings web_settings (const WebSrcProps & p);

}  // namespace prn::sim
