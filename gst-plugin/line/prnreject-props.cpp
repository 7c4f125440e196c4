/* prnreject element: its properties (see prnreject-props.h). */
#include "prnreject-props.h"

#include <cmath>

#include "prnline-common.h"

GType
gst_prn_reject_trigger_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_PRN_REJECT_TRIGGER_REGIONS, "Every region of every meta", "regions"},
    {GST_PRN_REJECT_TRIGGER_ANOMALOUS_BUFFERS,
        "The regions of anomalous buffers (the whole buffer when it has none)",
        "anomalous-buffers"},
    {0, nullptr, nullptr},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstPrnRejectTrigger", values));
  return type;
}

GType
gst_prn_reject_output_get_type (void)
{
  static GType type = 0;
  static const GFlagsValue values[] = {
    {GST_PRN_REJECT_OUTPUT_MESSAGE, "An element message \"prnreject\" on the bus", "message"},
    {GST_PRN_REJECT_OUTPUT_UDP, "A JSON datagram to host:port", "udp"},
    {GST_PRN_REJECT_OUTPUT_STDOUT, "A JSON line on stdout", "stdout"},
    {GST_PRN_REJECT_OUTPUT_GPIO, "A pulse on gpio-line of gpio-chip (libgpiod)", "gpio"},
    {0, nullptr, nullptr},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_flags_register_static ("GstPrnRejectOutput", values));
  return type;
}

namespace prn::reject {

namespace {

constexpr gdouble MAX_MS = 3600000.0;   /* one hour */

GstClockTime
ms_to_ns (gdouble ms)
{
  return static_cast<GstClockTime> (std::llround (ms * GST_MSECOND));
}

void
set_optional_string (std::optional<std::string> &out, const GValue * value)
{
  const gchar *v = g_value_get_string (value);
  if (v != nullptr)
    out = v;
  else
    out.reset ();
}

const gchar *
optional_c_str (const std::optional<std::string> &s)
{
  return s.has_value () ? s->c_str () : nullptr;
}

}  // namespace

void
install_properties (GObjectClass * klass)
{
  const GParamFlags ready = PROP_FLAGS_READY;
  const GParamFlags playing = PROP_FLAGS_PLAYING;

  g_object_class_install_property (klass, PROP_TRIGGER,
      g_param_spec_enum ("trigger", "Trigger",
          "Which detections ask for a pulse: every region, or the regions of anomalous "
          "buffers (the whole buffer when it has none)", GST_TYPE_PRN_REJECT_TRIGGER,
          DEFAULT_PROP_TRIGGER, playing));
  g_object_class_install_property (klass, PROP_DISTANCE_ROWS,
      g_param_spec_uint64 ("distance-rows", "Distance (rows)",
          "Web rows between the camera line and the ejector (used while distance-ms "
          "is negative)", 0, G_MAXUINT32, DEFAULT_PROP_DISTANCE_ROWS, playing));
  g_object_class_install_property (klass, PROP_DISTANCE_MS,
      g_param_spec_double ("distance-ms", "Distance (ms)",
          "Time for the web to travel from the camera line to the ejector, in ms; "
          "negative: use distance-rows", -1.0, MAX_MS, DEFAULT_PROP_DISTANCE_MS, playing));
  g_object_class_install_property (klass, PROP_LEAD_MS,
      g_param_spec_double ("lead-ms", "Lead (ms)",
          "Start each pulse this long before the defect reaches the ejector (actuator "
          "delay)", 0.0, MAX_MS, DEFAULT_PROP_LEAD_MS, playing));
  g_object_class_install_property (klass, PROP_PULSE_MS,
      g_param_spec_double ("pulse-ms", "Pulse (ms)",
          "Length of a pulse, in ms (longer with cover-defect for long defects)", 0.0,
          MAX_MS, DEFAULT_PROP_PULSE_MS, playing));
  g_object_class_install_property (klass, PROP_MIN_GAP_MS,
      g_param_spec_double ("min-gap-ms", "Minimum gap (ms)",
          "Pulses closer than this (or overlapping) are merged into one; the actuator "
          "also rests this long after each pulse", 0.0, MAX_MS, DEFAULT_PROP_MIN_GAP_MS,
          playing));
  g_object_class_install_property (klass, PROP_COVER_DEFECT,
      g_param_spec_boolean ("cover-defect", "Cover defect",
          "Make a pulse at least as long as its defect's rows take to pass the ejector",
          DEFAULT_PROP_COVER_DEFECT, playing));
  g_object_class_install_property (klass, PROP_OUTPUT,
      g_param_spec_flags ("output", "Output",
          "Where each fire goes: a bus message, a UDP datagram, a JSON line on stdout, "
          "a GPIO pulse", GST_TYPE_PRN_REJECT_OUTPUT, DEFAULT_PROP_OUTPUT, ready));
  g_object_class_install_property (klass, PROP_HOST,
      g_param_spec_string ("host", "Host",
          "Host name or address to send the UDP datagrams to (output=udp)",
          DEFAULT_PROP_HOST, ready));
  g_object_class_install_property (klass, PROP_PORT,
      g_param_spec_uint ("port", "Port", "UDP port to send the datagrams to (output=udp)",
          1, 65535, DEFAULT_PROP_PORT, ready));
  g_object_class_install_property (klass, PROP_GPIO_CHIP,
      g_param_spec_string ("gpio-chip", "GPIO chip",
          "GPIO chip of the ejector line (output=gpio): a name (gpiochip0), a path "
          "(/dev/gpiochip0), a label or a number", DEFAULT_PROP_GPIO_CHIP, ready));
  g_object_class_install_property (klass, PROP_GPIO_LINE,
      g_param_spec_uint ("gpio-line", "GPIO line",
          "Offset of the ejector line on gpio-chip (output=gpio), driven active high",
          0, G_MAXUINT16, DEFAULT_PROP_GPIO_LINE, ready));
  g_object_class_install_property (klass, PROP_DRAIN_ON_EOS,
      g_param_spec_boolean ("drain-on-eos", "Drain on EOS",
          "Hold EOS until every planned pulse has fired and ended (otherwise EOS passes "
          "at once and the pulses fire while the pipeline still plays)",
          DEFAULT_PROP_DRAIN_ON_EOS, playing));
}

bool
set_prop (RejectSettings & s, guint id, const GValue * value)
{
  switch (id) {
    case PROP_TRIGGER:
      s.trigger = static_cast<GstPrnRejectTrigger> (g_value_get_enum (value));
      return true;
    case PROP_DISTANCE_ROWS: s.distance_rows = g_value_get_uint64 (value); return true;
    case PROP_DISTANCE_MS: s.distance_ms = g_value_get_double (value); return true;
    case PROP_LEAD_MS: s.lead_ms = g_value_get_double (value); return true;
    case PROP_PULSE_MS: s.pulse_ms = g_value_get_double (value); return true;
    case PROP_MIN_GAP_MS: s.min_gap_ms = g_value_get_double (value); return true;
    case PROP_COVER_DEFECT: s.cover_defect = g_value_get_boolean (value); return true;
    case PROP_OUTPUT:
      s.output = static_cast<GstPrnRejectOutput> (g_value_get_flags (value));
      return true;
    case PROP_HOST: set_optional_string (s.host, value); return true;
    case PROP_PORT: s.port = g_value_get_uint (value); return true;
    case PROP_GPIO_CHIP: set_optional_string (s.gpio_chip, value); return true;
    case PROP_GPIO_LINE: s.gpio_line = g_value_get_uint (value); return true;
    case PROP_DRAIN_ON_EOS: s.drain_on_eos = g_value_get_boolean (value); return true;
    default: return false;
  }
}

bool
get_prop (const RejectSettings & s, guint id, GValue * value)
{
  switch (id) {
    case PROP_TRIGGER: g_value_set_enum (value, s.trigger); return true;
    case PROP_DISTANCE_ROWS: g_value_set_uint64 (value, s.distance_rows); return true;
    case PROP_DISTANCE_MS: g_value_set_double (value, s.distance_ms); return true;
    case PROP_LEAD_MS: g_value_set_double (value, s.lead_ms); return true;
    case PROP_PULSE_MS: g_value_set_double (value, s.pulse_ms); return true;
    case PROP_MIN_GAP_MS: g_value_set_double (value, s.min_gap_ms); return true;
    case PROP_COVER_DEFECT: g_value_set_boolean (value, s.cover_defect); return true;
    case PROP_OUTPUT: g_value_set_flags (value, s.output); return true;
    case PROP_HOST: g_value_set_string (value, optional_c_str (s.host)); return true;
    case PROP_PORT: g_value_set_uint (value, s.port); return true;
    case PROP_GPIO_CHIP: g_value_set_string (value, optional_c_str (s.gpio_chip)); return true;
    case PROP_GPIO_LINE: g_value_set_uint (value, s.gpio_line); return true;
    case PROP_DRAIN_ON_EOS: g_value_set_boolean (value, s.drain_on_eos); return true;
    default: return false;
  }
}

RejectConfig
reject_config (const RejectSettings & s)
{
  RejectConfig cfg;
  cfg.distance_rows = s.distance_rows;
  cfg.distance_ns = s.distance_ms >= 0.0 ? static_cast<gint64> (ms_to_ns (s.distance_ms)) : -1;
  cfg.lead_ns = ms_to_ns (s.lead_ms);
  cfg.pulse_ns = ms_to_ns (s.pulse_ms);
  cfg.min_gap_ns = ms_to_ns (s.min_gap_ms);
  cfg.cover_defect = s.cover_defect;
  return cfg;
}

}  // namespace prn::reject
