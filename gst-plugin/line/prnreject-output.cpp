/* prnline: prnreject's outputs (see prnreject-output.h). */
#include "prnreject-output.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifdef HAVE_LIBGPIOD
#include <gpiod.h>
#endif

#include "prnjson.h"

namespace prn {

std::string
fire_json (const FireRecord &r)
{
  gchar pulse[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (pulse, sizeof pulse, "%.12g", r.pulse_ms);

  std::string s = "{\"kind\":\"reject\",\"fire_time\":" + json_time (r.fire_time);
  s += ",\"due_time\":" + json_time (r.due_time);
  s += ",\"row_offset\":" + std::to_string (r.row_offset);
  s += ",\"rows\":" + std::to_string (r.rows);
  s += ",\"x\":" + std::to_string (r.x);
  s += ",\"width\":" + std::to_string (r.width);
  s += ",\"pulse_ms\":";
  s += pulse;
  s += ",\"late\":";
  s += r.late ? "true" : "false";
  s += ",\"count\":" + std::to_string (r.count);
  s += '}';
  return s;
}

/* Host names limited to the characters DNS names use, so that a mistyped value
 * fails at once instead of going to the resolver. */
static bool
plausible_host (const std::string &host)
{
  if (host.empty () || host.size () > 253)
    return false;
  for (char c : host)
    if (!g_ascii_isalnum (c) && c != '.' && c != '-' && c != '_' && c != ':')
      return false;
  return true;
}

bool
UdpSender::open (const std::string &host, guint port, std::string &error)
{
  close ();
  if (!plausible_host (host)) {
    error = "not a host name or address";
    return false;
  }
  if (port == 0 || port > 65535) {
    error = "port out of range";
    return false;
  }

  struct addrinfo hints;
  std::memset (&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo *res = nullptr;
  const std::string service = std::to_string (port);
  const int rc = getaddrinfo (host.c_str (), service.c_str (), &hints, &res);
  if (rc != 0) {
    error = gai_strerror (rc);
    return false;
  }

  for (struct addrinfo *ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = g_strerror (errno);
      continue;
    }
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    error = g_strerror (errno);
    ::close (fd);
  }
  freeaddrinfo (res);
  return fd_ >= 0;
}

bool
UdpSender::send (const std::string &payload, std::string &error)
{
  if (fd_ < 0) {
    error = "not open";
    return false;
  }
  /* A listener that is not (yet) there gives ECONNREFUSED on a connected UDP
   * socket for the datagram after; that is not worth stopping a line for. */
  ssize_t n;
  do {
    n = ::send (fd_, payload.data (), payload.size (), MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ECONNREFUSED)
    n = ::send (fd_, payload.data (), payload.size (), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t> (payload.size ()))
    return true;
  error = n < 0 ? g_strerror (errno) : "short datagram";
  return false;
}

void
UdpSender::close ()
{
  if (fd_ >= 0)
    ::close (fd_);
  fd_ = -1;
}

bool
GpioLine::available ()
{
#ifdef HAVE_LIBGPIOD
  return true;
#else
  return false;
#endif
}

bool
GpioLine::open (const std::string &chip, guint line, std::string &error)
{
  close ();
#ifdef HAVE_LIBGPIOD
  chip_ = gpiod_chip_open_lookup (chip.c_str ());
  if (chip_ == nullptr) {
    error = g_strerror (errno);
    return false;
  }
  line_ = gpiod_chip_get_line (chip_, line);
  if (line_ == nullptr) {
    error = std::string ("no line ") + std::to_string (line) + ": " + g_strerror (errno);
    close ();
    return false;
  }
  if (gpiod_line_request_output (line_, "prnreject", 0) != 0) {
    error = std::string ("cannot request line ") + std::to_string (line) + " as an output: "
        + g_strerror (errno);
    line_ = nullptr;
    close ();
    return false;
  }
  return true;
#else
  (void) chip;
  (void) line;
  error = "built without libgpiod";
  return false;
#endif
}

bool
GpioLine::set (int value, std::string &error)
{
#ifdef HAVE_LIBGPIOD
  if (line_ != nullptr && gpiod_line_set_value (line_, value ? 1 : 0) == 0)
    return true;
  error = line_ == nullptr ? "not open" : g_strerror (errno);
  return false;
#else
  (void) value;
  error = "built without libgpiod";
  return false;
#endif
}

void
GpioLine::close ()
{
#ifdef HAVE_LIBGPIOD
  if (line_ != nullptr) {
    gpiod_line_set_value (line_, 0);
    gpiod_line_release (line_);
  }
  if (chip_ != nullptr)
    gpiod_chip_close (chip_);
#endif
  line_ = nullptr;
  chip_ = nullptr;
}

}  // namespace prn
