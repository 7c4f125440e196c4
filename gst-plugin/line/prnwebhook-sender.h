/* prnline: the HTTP side of prnwebhook, on libcurl. Plain C++ (no GObject): a
 * worker thread POSTs queued JSON payloads to one URL, retries failures, and
 * accounts for every payload: queued = done (posted) + failed + dropped + pending. */
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "prnjobqueue.h"

namespace prn {

struct WebhookOptions {
  std::string url;                  /* http:// or https:// */
  std::vector<std::string> headers; /* extra "Name: value" lines */
  long timeout_ms = 2000;           /* per attempt, connection included */
  int retries = 2;                  /* attempts after the first */
  size_t max_queued = 1000;         /* payloads waiting at most; beyond, dropped */
};

class WebhookSender {
public:
  /* Starts the worker. Throws std::runtime_error for a URL that is not http(s)
   * or a header without "Name: value". `on_failure` is called from the worker
   * with the reason when a payload is given up after a success (or first): once
   * per outage. */
  WebhookSender (const WebhookOptions & options, std::function<void (const std::string &)> on_failure);
  /* Stops the worker: a request in progress is aborted, queued payloads are
   * counted as dropped. */
  ~WebhookSender ();
  WebhookSender (const WebhookSender &) = delete;
  WebhookSender & operator= (const WebhookSender &) = delete;

  /* Queues one payload; false (and counted as dropped) when max_queued wait already. */
  bool post (std::string payload);

  /* Waits until nothing is queued or in progress, at most `timeout_ms` or until
   * change_wait() ends it; counts () says what is left. */
  void wait_idle (long timeout_ms);
  void change_wait (WaitChange change);

  /* done: answered 2xx; failed: given up after every attempt; dropped: refused
   * (queue full) or abandoned at stop; pending: queued or in progress. All four
   * at one instant. */
  JobCounts counts () const { return queue_.counts (); }

  /* Stops the worker now (as the destructor does), so that counts() are final. */
  void stop ();

  /* Why `url` cannot be posted to ("" when it can). */
  static std::string url_problem (const std::string & url);
  /* Why `header` is not a "Name: value" header line ("" when it is). */
  static std::string header_problem (const std::string & header);

private:
  void run ();
  /* One POST on the worker's connection `curl` (kept alive between requests);
   * "" on a 2xx answer, else why not. */
  std::string attempt (void *curl, const std::string & payload);

  WebhookOptions options_;
  std::function<void (const std::string &)> on_failure_;
  JobQueue<std::string> queue_; /* its stopping() flag is read by libcurl's progress callback */
  std::thread worker_;
};

}  // namespace prn
