/* prnline: why an EOS wait for a worker (prnmqtt, prnwebhook, prnsave) ends
 * early. Two reasons that do not undo each other: a flush (FLUSH_START, until
 * FLUSH_STOP) and the element leaving PAUSED (until its worker is deleted at
 * stop()). A FLUSH_STOP that races PAUSED to READY must not make a later EOS
 * wait again for its whole timeout. Plain C++; the owner guards it with its own
 * mutex and wakes its waiters after a change. */
#pragma once

namespace prn {

enum class WaitChange { FLUSH_START, FLUSH_STOP, LEAVING_PAUSED };

struct WaitEnd {
  bool flushing = false;
  bool leaving = false;

  void apply (WaitChange change)
  {
    switch (change) {
      case WaitChange::FLUSH_START: flushing = true; break;
      case WaitChange::FLUSH_STOP: flushing = false; break;
      case WaitChange::LEAVING_PAUSED: leaving = true; break;
    }
  }
  /* True while a wait must return at once. */
  bool ended () const { return flushing || leaving; }
};

}  // namespace prn
