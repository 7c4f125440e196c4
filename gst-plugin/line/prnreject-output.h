/* prnline: what prnreject sends when it fires, without GObject: the fire record
 * as JSON, a UDP sender (POSIX sockets) and a GPIO line (libgpiod v1
 * character-device API, compiled only with HAVE_LIBGPIOD). */
#pragma once

#include <gst/gst.h>

#include <string>

struct gpiod_chip;
struct gpiod_line;

namespace prn {

/* One fire, as the element reports it on every output. */
struct FireRecord {
  GstClockTime fire_time = GST_CLOCK_TIME_NONE;  /* running time the pulse starts */
  GstClockTime due_time = GST_CLOCK_TIME_NONE;   /* running time it was planned for */
  guint64 row_offset = 0;       /* first web row of the (merged) defect */
  guint64 rows = 0;             /* web rows the pulse covers */
  gint x = 0, width = 0;        /* columns of the defect(s) */
  double pulse_ms = 0.0;        /* pulse length */
  bool late = false;
  guint count = 0;              /* requests merged into the pulse */
};

/* {"kind":"reject","fire_time":..,"due_time":..,"row_offset":..,"rows":..,"x":..,
 *  "width":..,"pulse_ms":..,"late":true|false,"count":..} without a newline;
 * times in ns, pulse_ms with up to 12 significant digits (C locale). */
std::string fire_json (const FireRecord &r);

/* A connected UDP socket to host:port. */
class UdpSender {
public:
  UdpSender () = default;
  UdpSender (const UdpSender &) = delete;
  UdpSender &operator= (const UdpSender &) = delete;
  ~UdpSender () { close (); }

  /* host: a numeric IPv4/IPv6 address or a host name (letters, digits, '.', '-',
   * '_'). False with `error` set when it cannot be resolved or connected. */
  bool open (const std::string &host, guint port, std::string &error);
  /* One datagram; false with `error` set when the send fails. */
  bool send (const std::string &payload, std::string &error);
  void close ();
  bool is_open () const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/* One output line of a GPIO chip, active high. */
class GpioLine {
public:
  GpioLine () = default;
  GpioLine (const GpioLine &) = delete;
  GpioLine &operator= (const GpioLine &) = delete;
  ~GpioLine () { close (); }

  /* Whether the plugin was built with libgpiod. */
  static bool available ();

  /* chip: a name ("gpiochip0"), a path or a number, as gpiod_chip_open_lookup
   * takes it; the line is requested as an output, initially 0. */
  bool open (const std::string &chip, guint line, std::string &error);
  bool set (int value, std::string &error);
  void close ();
  bool is_open () const { return line_ != nullptr; }

private:
  gpiod_chip *chip_ = nullptr;
  gpiod_line *line_ = nullptr;
};

}  // namespace prn
