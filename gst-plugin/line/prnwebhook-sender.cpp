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
    : options_ (options), on_failure_ (std::move (on_failure))
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
  {
    std::lock_guard<std::mutex> lock (mutex_);
    stopping_ = true;
    cancelled_ = true;
  }
  work_.notify_all ();
  idle_.notify_all ();
  if (worker_.joinable ())
    worker_.join ();
}

bool
WebhookSender::post (std::string payload)
{
  {
    std::lock_guard<std::mutex> lock (mutex_);
    if (queue_.size () >= options_.max_queued) {
      dropped_++;
      return false;
    }
    queue_.push_back (std::move (payload));
  }
  work_.notify_one ();
  return true;
}

void
WebhookSender::wait_idle (long timeout_ms)
{
  std::unique_lock<std::mutex> lock (mutex_);
  idle_.wait_for (lock, std::chrono::milliseconds (timeout_ms), [this] {
    return (queue_.empty () && !busy_) || cancelled_;
  });
}

void
WebhookSender::cancel_wait ()
{
  {
    std::lock_guard<std::mutex> lock (mutex_);
    cancelled_ = true;
  }
  idle_.notify_all ();
}

void
WebhookSender::resume_wait ()
{
  std::lock_guard<std::mutex> lock (mutex_);
  cancelled_ = stopping_;
}

WebhookSender::Counts
WebhookSender::counts () const
{
  std::lock_guard<std::mutex> lock (mutex_);
  return {posted_, failed_, dropped_, queue_.size () + (busy_ ? 1u : 0u)};
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
    curl_easy_setopt (curl, CURLOPT_XFERINFODATA, &stopping_);
  }
  std::unique_lock<std::mutex> lock (mutex_);
  for (;;) {
    work_.wait (lock, [this] { return stopping_ || !queue_.empty (); });
    if (stopping_) {
      dropped_ += queue_.size ();
      queue_.clear ();
      break;
    }
    std::string payload = std::move (queue_.front ());
    queue_.pop_front ();
    busy_ = true;
    std::string why;
    for (int i = 0; i <= options_.retries && !stopping_; i++) {
      if (i > 0 && work_.wait_for (lock, std::chrono::milliseconds (200 * i), [this] { return stopping_.load (); }))
        break;
      lock.unlock ();
      why = curl != nullptr ? attempt (curl, payload) : "libcurl could not make a request";
      lock.lock ();
      if (why.empty ())
        break;
    }
    if (why.empty ()) {
      posted_++;
      in_outage_ = false;
    } else if (stopping_) {
      dropped_++;
    } else {
      failed_++;
      if (!in_outage_) {
        /* Still busy: an EOS waiting for the queue reports after this warning. */
        in_outage_ = true;
        lock.unlock ();
        on_failure_ (why);
        lock.lock ();
      }
    }
    busy_ = false;
    idle_.notify_all ();
  }
  idle_.notify_all ();
  lock.unlock ();
  curl_slist_free_all (headers);
  if (curl != nullptr)
    curl_easy_cleanup (curl);
}

}  // namespace prn
