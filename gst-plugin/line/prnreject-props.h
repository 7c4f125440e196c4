/* prnreject element: its properties (ids, defaults, specs) and the settings they
 * hold. The element keeps one RejectSettings under its object lock. */
#pragma once

#include "gstprnreject.h"
#include "prnreject-plan.h"

#include <optional>
#include <string>

namespace prn::reject {

enum {
  PROP_0,
  PROP_TRIGGER,
  PROP_DISTANCE_ROWS,
  PROP_DISTANCE_MS,
  PROP_LEAD_MS,
  PROP_PULSE_MS,
  PROP_MIN_GAP_MS,
  PROP_COVER_DEFECT,
  PROP_OUTPUT,
  PROP_HOST,
  PROP_PORT,
  PROP_GPIO_CHIP,
  PROP_GPIO_LINE,
  PROP_DRAIN_ON_EOS,
};

#define DEFAULT_PROP_TRIGGER GST_PRN_REJECT_TRIGGER_REGIONS
#define DEFAULT_PROP_DISTANCE_ROWS 0
#define DEFAULT_PROP_DISTANCE_MS -1.0
#define DEFAULT_PROP_LEAD_MS 0.0
#define DEFAULT_PROP_PULSE_MS 50.0
#define DEFAULT_PROP_MIN_GAP_MS 20.0
#define DEFAULT_PROP_COVER_DEFECT TRUE
#define DEFAULT_PROP_OUTPUT GST_PRN_REJECT_OUTPUT_MESSAGE
#define DEFAULT_PROP_HOST "127.0.0.1"
#define DEFAULT_PROP_PORT 5005
#define DEFAULT_PROP_GPIO_CHIP nullptr
#define DEFAULT_PROP_GPIO_LINE 0
#define DEFAULT_PROP_DRAIN_ON_EOS TRUE

struct RejectSettings {
  GstPrnRejectTrigger trigger = DEFAULT_PROP_TRIGGER;
  guint64 distance_rows = DEFAULT_PROP_DISTANCE_ROWS;
  gdouble distance_ms = DEFAULT_PROP_DISTANCE_MS;
  gdouble lead_ms = DEFAULT_PROP_LEAD_MS;
  gdouble pulse_ms = DEFAULT_PROP_PULSE_MS;
  gdouble min_gap_ms = DEFAULT_PROP_MIN_GAP_MS;
  gboolean cover_defect = DEFAULT_PROP_COVER_DEFECT;
  GstPrnRejectOutput output = DEFAULT_PROP_OUTPUT;
  std::optional<std::string> host = DEFAULT_PROP_HOST;  /* nullopt: NULL */
  guint port = DEFAULT_PROP_PORT;
  std::optional<std::string> gpio_chip;                 /* nullopt: NULL (the default) */
  guint gpio_line = DEFAULT_PROP_GPIO_LINE;
  gboolean drain_on_eos = DEFAULT_PROP_DRAIN_ON_EOS;
};

void install_properties (GObjectClass * klass);
/* Under the object lock. False for an unknown id. */
bool set_prop (RejectSettings & s, guint id, const GValue * value);
bool get_prop (const RejectSettings & s, guint id, GValue * value);
/* The timing part of the settings, in ns (distance_ns -1 while distance-ms < 0). */
RejectConfig reject_config (const RejectSettings & s);

}  // namespace prn::reject
