/* prnline: the folder side of prnsave. Plain C++ (no GObject): a worker thread
 * writes each queued frame as a set of files, atomically, and keeps at most
 * max_files sets in the folder (the oldest go first, those of earlier runs
 * included). Every frame queued is saved, failed, dropped or pending.
 *
 * A set, for a frame seen at 2026-12-01 12:00:00.123 UTC, the 42nd of the run:
 *   <prefix>-20261201T120000.123Z-000042.png          the frame
 *   <prefix>-20261201T120000.123Z-000042-heatmap.png  its heatmap (when asked)
 *   <prefix>-20261201T120000.123Z-000042.json         the meta, written last
 * Names sort in time order; a set counts once its .json exists. Only names of
 * exactly this form count (another prefix's, "line7-cam2-..." for "line7", and
 * other files are left alone); a name already there is never replaced (the next
 * sequence number is taken). At the start, what an interrupted run left of this
 * prefix (hidden temporary files, images without their .json) is removed. */
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "prnjobqueue.h"
#include "prnsave-image.h"

namespace prn {

struct SaveOptions {
  std::string folder;           /* an existing, writable folder */
  std::string prefix = "prn";   /* file names begin with it and '-'; no '/' */
  unsigned max_files = 10000;   /* sets kept in the folder; 0: no limit */
  size_t max_queued = 16;       /* frames waiting at most; beyond, dropped */
  int compression = 1;          /* zlib level of the PNG files, 0 to 9 */
  const uint8_t *lut = nullptr; /* the heatmap's colour map (256 RGB triplets) */
};

/* A heatmap as the meta carries it: raw scores, row-major. */
struct SaveHeatmap {
  std::vector<float> scores;
  int width = 0, height = 0;
  float scale_x = 1.0f;
};

/* One frame to save. */
struct SaveJob {
  std::chrono::system_clock::time_point time; /* when the frame was seen */
  SaveImage frame;
  std::optional<SaveHeatmap> heatmap;         /* written when present */
  std::string json;                           /* one JSON object: the meta */
};

/* The files of one set written, as full paths ("" for a heatmap not written). */
struct SavedSet {
  std::string image, heatmap, json;
};

class SaveWriter {
public:
  /* Reads the sets already in the folder and starts the worker. Throws
   * std::runtime_error naming the folder when it cannot be read, or for a
   * prefix that is empty or holds '/'. `on_saved` is called from the worker
   * after each set; `on_failure` with the reason when a set could not be
   * written after a success (or first): once per outage. */
  SaveWriter (const SaveOptions & options, std::function<void (const SavedSet &)> on_saved,
      std::function<void (const std::string &)> on_failure);
  /* Stops the worker (the set being written is finished; queued frames are
   * counted as dropped). */
  ~SaveWriter ();
  SaveWriter (const SaveWriter &) = delete;
  SaveWriter & operator= (const SaveWriter &) = delete;

  /* Queues a frame; false (and counted as dropped) when max_queued wait already. */
  bool push (SaveJob job);
  /* True (and counted as dropped) when push() would refuse a frame now. */
  bool drop_if_full () { return queue_.drop_if_full (); }

  void wait_idle (long timeout_ms) { queue_.wait_idle (timeout_ms); }
  void change_wait (WaitChange change) { queue_.change_wait (change); }
  JobCounts counts () const { return queue_.counts (); }
  /* Stops the worker now (as the destructor does), so that counts() are final. */
  void stop ();

  /* Why `prefix` cannot begin file names ("" when it can). */
  static std::string prefix_problem (const std::string & prefix);
  /* The base name (no extension) of the `sequence`th set of a frame seen at `time`. */
  static std::string set_name (const std::string & prefix,
      std::chrono::system_clock::time_point time, uint64_t sequence);

private:
  void run ();
  /* Writes one set; "" or why not (nothing of the set is left then). */
  std::string write_set (const SaveJob & job, SavedSet & saved);
  /* Removes the oldest sets beyond max_files. */
  void trim ();

  SaveOptions options_;  /* max_files 0: kept_ stays empty */
  std::function<void (const SavedSet &)> on_saved_;
  std::function<void (const std::string &)> on_failure_;
  JobQueue<SaveJob> queue_;
  std::deque<std::string> kept_; /* worker only (after the constructor): base names, oldest first */
  uint64_t sequence_ = 0;        /* worker only */
  std::thread worker_;
};

}  // namespace prn
