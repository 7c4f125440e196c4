// prnreject element: the actuator outputs (GPIO line, UDP datagram, JSON lines on
// stdout, bus message) opened, written and closed on the element's behalf.
#include "prnreject-state.h"

#include <cstdio>
#include <string>

#include "prnline-common.h"

#define GST_CAT_DEFAULT gst_prn_reject_debug

namespace prn::reject {

/* The ordered part of a fire or release (GPIO, UDP, stdout), from the scheduler. */
void
output_event (GstPrnReject * self, const prn::RejectEvent & e)
{
  std::string error;

  g_mutex_lock (&self->output_lock);
  const GstPrnRejectOutput outputs = self->outputs;
  if ((outputs & GST_PRN_REJECT_OUTPUT_GPIO) && self->gpio->is_open ()
      && !self->gpio->set (e.kind == prn::RejectEvent::FIRE ? 1 : 0, error))
    GST_WARNING_OBJECT (self, "could not set the GPIO line: %s", error.c_str ());
  if (e.kind == prn::RejectEvent::FIRE
      && (outputs & (GST_PRN_REJECT_OUTPUT_UDP | GST_PRN_REJECT_OUTPUT_STDOUT))) {
    const std::string json = prn::fire_json (e.record);
    if ((outputs & GST_PRN_REJECT_OUTPUT_UDP) && !self->udp->send (json, error))
      GST_WARNING_OBJECT (self, "could not send the UDP datagram: %s", error.c_str ());
    if (outputs & GST_PRN_REJECT_OUTPUT_STDOUT) {
      const std::string line = json + '\n';
      if (fwrite (line.data (), 1, line.size (), stdout) != line.size () || fflush (stdout) != 0)
        GST_WARNING_OBJECT (self, "could not write to stdout");
    }
  }
  g_mutex_unlock (&self->output_lock);
}

/* The unordered part, with no lock held: the log and the bus message. */
void
notify_event (GstPrnReject * self, const prn::RejectEvent & e)
{
  if (e.kind != prn::RejectEvent::FIRE)
    return;
  const prn::FireRecord &r = e.record;
  if (r.late)
    GST_WARNING_OBJECT (self, "late fire: rows from %" G_GUINT64_FORMAT " reached the "
        "ejector at %" GST_TIME_FORMAT " but were detected only at %" GST_TIME_FORMAT
        "; the ejector distance is too short for the processing latency", r.row_offset,
        GST_TIME_ARGS (r.due_time), GST_TIME_ARGS (r.fire_time));
  else
    GST_DEBUG_OBJECT (self, "fire at %" GST_TIME_FORMAT ", rows from %" G_GUINT64_FORMAT
        ", %u merged", GST_TIME_ARGS (r.fire_time), r.row_offset, r.count);

  g_mutex_lock (&self->output_lock);
  const gboolean message = (self->outputs & GST_PRN_REJECT_OUTPUT_MESSAGE) != 0;
  g_mutex_unlock (&self->output_lock);
  if (!message)
    return;
  GstStructure *s = gst_structure_new ("prnreject",
      "fire-time", G_TYPE_UINT64, r.fire_time,
      "due-time", G_TYPE_UINT64, r.due_time,
      "row-offset", G_TYPE_UINT64, r.row_offset,
      "rows", G_TYPE_UINT64, r.rows,
      "x", G_TYPE_INT, r.x,
      "width", G_TYPE_INT, r.width,
      "pulse-ms", G_TYPE_DOUBLE, r.pulse_ms,
      "late", G_TYPE_BOOLEAN, r.late,
      "count", G_TYPE_UINT, r.count, NULL);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

void
close_outputs (GstPrnReject * self)
{
  g_mutex_lock (&self->output_lock);
  self->udp->close ();
  self->gpio->close ();
  self->outputs = static_cast<GstPrnRejectOutput> (0);
  g_mutex_unlock (&self->output_lock);
}

bool
open_outputs (GstPrnReject * self)
{
  GST_OBJECT_LOCK (self);
  const GstPrnRejectOutput outputs = self->props->output;
  const std::string host = self->props->host.value_or ("");
  const guint port = self->props->port;
  const std::string chip = self->props->gpio_chip.value_or ("");
  const guint line = self->props->gpio_line;
  GST_OBJECT_UNLOCK (self);

  std::string error;
  g_mutex_lock (&self->output_lock);
  gboolean ok = TRUE;
  if ((outputs & GST_PRN_REJECT_OUTPUT_UDP) && !self->udp->open (host, port, error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Could not send UDP datagrams to host \"%s\" port %u (properties host and port).",
            host.c_str (), port), ("%s", error.c_str ()));
    ok = FALSE;
  } else if ((outputs & GST_PRN_REJECT_OUTPUT_GPIO) && !prn::GpioLine::available ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("output=gpio is not available: prnline was built without libgpiod."),
        ("install libgpiod-dev and rebuild"));
    ok = FALSE;
  } else if ((outputs & GST_PRN_REJECT_OUTPUT_GPIO) && chip.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("output=gpio needs the gpio-chip property (for example gpio-chip=gpiochip0)."),
        (nullptr));
    ok = FALSE;
  } else if ((outputs & GST_PRN_REJECT_OUTPUT_GPIO) && !self->gpio->open (chip, line, error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open line %u of GPIO chip \"%s\" (properties gpio-chip and gpio-line).",
            line, chip.c_str ()), ("%s", error.c_str ()));
    ok = FALSE;
  }
  self->outputs = ok ? outputs : static_cast<GstPrnRejectOutput> (0);
  g_mutex_unlock (&self->output_lock);
  if (!ok) {
    close_outputs (self);
    return false;
  }

  return true;
}

} // namespace prn::reject
