#include "prnwebhook-props.h"

#include "prnline-common.h"

namespace prn::webhook {

void
install_properties (GObjectClass * klass)
{
  const GParamFlags ready = prn::PROP_FLAGS_READY;
  const GParamFlags playing = prn::PROP_FLAGS_PLAYING;
  const GParamFlags read_only = static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (klass, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "The http:// or https:// URL every JSON "
          "object is POSTed to", nullptr, ready));
  g_object_class_install_property (klass, PROP_WHAT,
      g_param_spec_enum ("what", "What",
          "What a request describes: a region, an anomalous buffer or any buffer with a meta "
          "(the JSON objects of prnjsonlines)", GST_TYPE_PRN_JSON_LINES_WHAT, DEFAULT_PROP_WHAT,
          playing));
  g_object_class_install_property (klass, PROP_HEADER,
      g_param_spec_string ("header", "Header", "One more request header, 'Name: value' (e.g. "
          "'Authorization: Bearer ...'; NULL: none)", nullptr, ready));
  g_object_class_install_property (klass, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout", "Milliseconds one attempt may take, connecting "
          "included", 1, 600000, DEFAULT_PROP_TIMEOUT, ready));
  g_object_class_install_property (klass, PROP_RETRIES,
      g_param_spec_uint ("retries", "Retries", "Attempts after a failed one (no answer, or "
          "not 2xx), 0.2 s apart and growing, before the object is given up", 0, 100,
          DEFAULT_PROP_RETRIES, ready));
  g_object_class_install_property (klass, PROP_MAX_QUEUED,
      g_param_spec_uint ("max-queued", "Max queued", "Objects waiting to be sent at most; "
          "beyond, they are dropped and counted", 1, G_MAXINT, DEFAULT_PROP_MAX_QUEUED, ready));
  g_object_class_install_property (klass, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush timeout", "Milliseconds EOS waits at most for "
          "the queued objects to be sent", 0, 600000, DEFAULT_PROP_FLUSH_TIMEOUT, playing));
  g_object_class_install_property (klass, PROP_POSTED,
      g_param_spec_uint64 ("posted", "Posted", "Objects the server answered with 2xx since "
          "start", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (klass, PROP_FAILED,
      g_param_spec_uint64 ("failed", "Failed", "Objects given up after every attempt since "
          "start", 0, G_MAXUINT64, 0, read_only));
  g_object_class_install_property (klass, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped", "Objects never sent since start: beyond "
          "max-queued, or still queued at stop", 0, G_MAXUINT64, 0, read_only));
}

bool
set_prop (WebhookSettings & s, guint id, const GValue * value)
{
  switch (id) {
    case PROP_LOCATION: s.location = prn::optional_string (value); return true;
    case PROP_WHAT: s.what = static_cast<GstPrnJsonLinesWhat> (g_value_get_enum (value)); return true;
    case PROP_HEADER: s.header = prn::optional_string (value); return true;
    case PROP_TIMEOUT: s.timeout = g_value_get_uint (value); return true;
    case PROP_RETRIES: s.retries = g_value_get_uint (value); return true;
    case PROP_MAX_QUEUED: s.max_queued = g_value_get_uint (value); return true;
    case PROP_FLUSH_TIMEOUT: s.flush_timeout = g_value_get_uint (value); return true;
    default: return false;
  }
}

bool
get_prop (const WebhookSettings & s, guint id, GValue * value)
{
  switch (id) {
    case PROP_LOCATION: prn::set_optional_string (value, s.location); return true;
    case PROP_WHAT: g_value_set_enum (value, s.what); return true;
    case PROP_HEADER: prn::set_optional_string (value, s.header); return true;
    case PROP_TIMEOUT: g_value_set_uint (value, s.timeout); return true;
    case PROP_RETRIES: g_value_set_uint (value, s.retries); return true;
    case PROP_MAX_QUEUED: g_value_set_uint (value, s.max_queued); return true;
    case PROP_FLUSH_TIMEOUT: g_value_set_uint (value, s.flush_timeout); return true;
    default: return false;
  }
}

}  // namespace prn::webhook
