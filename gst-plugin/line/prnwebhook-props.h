/* prnwebhook element: its properties (ids, defaults, specs) and the settings they
 * hold. The element keeps one WebhookSettings under its object lock; the counters
 * (posted, failed, dropped) are read from the element's state. */
#pragma once

#include "gstprnjsonlines.h"

#include <optional>
#include <string>

namespace prn::webhook {

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_WHAT,
  PROP_HEADER,
  PROP_TIMEOUT,
  PROP_RETRIES,
  PROP_MAX_QUEUED,
  PROP_FLUSH_TIMEOUT,
  PROP_POSTED,
  PROP_FAILED,
  PROP_DROPPED,
};

#define DEFAULT_PROP_WHAT GST_PRN_JSON_LINES_WHAT_REGIONS
#define DEFAULT_PROP_TIMEOUT 2000
#define DEFAULT_PROP_RETRIES 2
#define DEFAULT_PROP_MAX_QUEUED 1000
#define DEFAULT_PROP_FLUSH_TIMEOUT 5000

struct WebhookSettings {
  std::optional<std::string> location;   /* nullopt: NULL (the default: start fails) */
  GstPrnJsonLinesWhat what = DEFAULT_PROP_WHAT;
  std::optional<std::string> header;     /* nullopt: none */
  guint timeout = DEFAULT_PROP_TIMEOUT;
  guint retries = DEFAULT_PROP_RETRIES;
  guint max_queued = DEFAULT_PROP_MAX_QUEUED;
  guint flush_timeout = DEFAULT_PROP_FLUSH_TIMEOUT;
};

void install_properties (GObjectClass * klass);
/* Under the object lock. False for an id that is not a setting. */
bool set_prop (WebhookSettings & s, guint id, const GValue * value);
bool get_prop (const WebhookSettings & s, guint id, GValue * value);

}  // namespace prn::webhook
