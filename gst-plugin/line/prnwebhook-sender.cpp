#include "prnwebhook-sender.h"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <stdexcept>

namespace prn {

namespace {

size_t
discard_body (char *, size_t size, size_t n, void *)
{
  return size * n;
}

/* libcurl's progress callback: a nonzero return aborts the transfer. */
int
abort_when_stopping (void *flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
  return static_cast<const std::atomic<bool> *> (flag)->load () ? 1 : 0;
}

}  // namespace

std::string
WebhookSender::url_problem (const std::string & url)
{
  if (url.rfind ("http://", 0) != 0 && url.rfind ("https://", 0) != 0)
    return "expected an http:// or https:// URL, got '" + url + "'";
  CURLU *u = curl_url ();
  const CURLUcode rc = curl_url_set (u, CURLUPART_URL, url.c_str (), 0);
  curl_url_cleanup (u);
  if (rc != CURLUE_OK)
    return "expected a valid URL, got '" + url + "' (" + curl_url_strerror (rc) + ")";
  return "";
}

std::string
WebhookSender::header_problem (const std::string & header)
{
  const size_t colon = header.find (':');
  if (colon == std::string::npos || colon == 0 || header.find_first_of ("\r\n") != std::string::npos)
    return "expected a header line 'Name: value', got '" + header + "'";
  return "";
}

WebhookSender::WebhookSender (const WebhookOptions & options,
    std::function<void (const std::string &)> on_failure)
    : options_ (options), on_failure_ (std::move (on_failure)), queue_ (options.max_queued)
{
  std::string problem = url_problem (options_.url);
  for (const std::string &h : options_.headers)
    if (problem.empty ())
      problem = header_problem (h);
  if (!problem.empty ())
    throw std::runtime_error (problem);
  worker_ = std::thread (&WebhookSender::run, this);
}

WebhookSender::~WebhookSender ()
{
  stop ();
}

void
WebhookSender::stop ()
{
  queue_.stop ();
  if (worker_.joinable ())
    worker_.join ();
}

bool
WebhookSender::post (std::string payload)
{
  return queue_.push (std::move (payload));
}

void
WebhookSender::wait_idle (long timeout_ms)
{
  queue_.wait_idle (timeout_ms);
}

void
WebhookSender::change_wait (WaitChange change)
{
  queue_.change_wait (change);
}

std::string
WebhookSender::attempt (void *handle, const std::string & payload)
{
  CURL *curl = static_cast<CURL *> (handle);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, payload.data ());
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t> (payload.size ()));
  const CURLcode rc = curl_easy_perform (curl);
  long status = 0;
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK)
    return curl_easy_strerror (rc);
  if (status < 200 || status >= 300)
    return "the server answered HTTP " + std::to_string (status);
  return "";
}

void
WebhookSender::run ()
{
  /* One handle for the worker's life: libcurl keeps its connection alive
   * between requests (no new TCP/TLS handshake per object). */
  CURL *curl = curl_easy_init ();
  struct curl_slist *headers = curl_slist_append (nullptr, "Content-Type: application/json");
  for (const std::string &h : options_.headers)
    headers = curl_slist_append (headers, h.c_str ());
  if (curl != nullptr) {
    curl_easy_setopt (curl, CURLOPT_URL, options_.url.c_str ());
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
    curl_easy_setopt (curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool> *> (&queue_.stopping ()));
  }
  while (std::optional<std::string> payload = queue_.take ()) {
    std::string why;
    for (int i = 0; i <= options_.retries && !queue_.stopping (); i++) {
      if (i > 0 && queue_.sleep_unless_stopping (std::chrono::milliseconds (200 * i)))
        break;
      why = curl != nullptr ? attempt (curl, *payload) : "libcurl could not make a request";
      if (why.empty ())
        break;
    }
    if (why.empty ()) {
      queue_.finish (JobOutcome::DONE);
    } else if (queue_.stopping ()) {
      queue_.finish (JobOutcome::DROPPED);
    } else {
      if (queue_.failure_begins_outage ())
        on_failure_ (why);      /* still pending: an EOS waiting for the queue reports after it */
      queue_.finish (JobOutcome::FAILED);
    }
  }
  curl_slist_free_all (headers);
  if (curl != nullptr)
    curl_easy_cleanup (curl);
}

}  // namespace prn
