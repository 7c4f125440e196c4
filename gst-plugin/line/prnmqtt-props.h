/* prnmqtt element: its properties (ids, defaults, specs) and the settings they
 * hold. The element keeps one MqttSettings under its object lock; the counters
 * (connected, published, delivered, dropped) are read from the element's state. */
#pragma once

#include "gstprnjsonlines.h"

#include <optional>
#include <string>

namespace prn::mqtt {

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TOPIC,
  PROP_WHAT,
  PROP_QOS,
  PROP_RETAIN,
  PROP_CLIENT_ID,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_KEEPALIVE,
  PROP_FLUSH_TIMEOUT,
  PROP_MAX_QUEUED,
  PROP_CONNECTED,
  PROP_PUBLISHED,
  PROP_DELIVERED,
  PROP_DROPPED,
};

#define DEFAULT_PROP_HOST "localhost"
#define DEFAULT_PROP_PORT 1883
#define DEFAULT_PROP_TOPIC "prnanomaly/detections"
#define DEFAULT_PROP_WHAT GST_PRN_JSON_LINES_WHAT_REGIONS
#define DEFAULT_PROP_QOS 1
#define DEFAULT_PROP_RETAIN FALSE
#define DEFAULT_PROP_KEEPALIVE 30
#define DEFAULT_PROP_FLUSH_TIMEOUT 5000
#define DEFAULT_PROP_MAX_QUEUED 10000

struct MqttSettings {
  std::optional<std::string> host = DEFAULT_PROP_HOST;   /* nullopt: NULL */
  gint port = DEFAULT_PROP_PORT;
  std::optional<std::string> topic = DEFAULT_PROP_TOPIC;
  GstPrnJsonLinesWhat what = DEFAULT_PROP_WHAT;
  gint qos = DEFAULT_PROP_QOS;
  gboolean retain = DEFAULT_PROP_RETAIN;
  std::optional<std::string> client_id, username, password; /* nullopt: NULL (the defaults) */
  gint keepalive = DEFAULT_PROP_KEEPALIVE;
  guint flush_timeout = DEFAULT_PROP_FLUSH_TIMEOUT;
  guint max_queued = DEFAULT_PROP_MAX_QUEUED;
};

void install_properties (GObjectClass * klass);
/* Under the object lock. False for an id that is not a setting. */
bool set_prop (MqttSettings & s, guint id, const GValue * value);
bool get_prop (const MqttSettings & s, guint id, GValue * value);

}  // namespace prn::mqtt
