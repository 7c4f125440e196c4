// prnreject element: its instance struct (shared by gstprnreject.cpp and
// prnreject-outputs.cpp) and the actuator outputs' GStreamer side.
#pragma once

#include "gstprnreject.h"

#include <vector>

#include "prnreject-output.h"
#include "prnreject-plan.h"
#include "prnreject-props.h"
#include "prnreject-scheduler.h"

GST_DEBUG_CATEGORY_EXTERN (gst_prn_reject_debug);

struct _GstPrnReject {
  GstBaseTransform parent;

  prn::reject::RejectSettings *props;   /* under the object lock */

  /* Streaming thread only. */
  prn::LinePeriod caps_period;  /* from framerate * height; invalid when unknown */
  guint caps_height;
  prn::PeriodEstimator *estimator;
  std::vector<prn::RejectRequest> *deferred;    /* waiting for a line period */

  /* Outputs: opened in start(), closed in stop(), used under output_lock. */
  GMutex output_lock;
  GstPrnRejectOutput outputs;   /* 0 while stopped */
  prn::UdpSender *udp;
  prn::GpioLine *gpio;

  prn::RejectScheduler *scheduler;
};

namespace prn::reject {

/* Opens the outputs the properties ask for (start()); posts an element error
 * naming the property at fault and returns false when one cannot be opened. */
bool open_outputs (GstPrnReject * self);
void close_outputs (GstPrnReject * self);
/* The scheduler's callbacks: the ordered part of a fire or release (GPIO, UDP,
 * stdout), and the unordered part (log, bus message). */
void output_event (GstPrnReject * self, const prn::RejectEvent & e);
void notify_event (GstPrnReject * self, const prn::RejectEvent & e);

} // namespace prn::reject
