#include "prnsave-writer.h"

#include "prn/atomic_file.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <regex>
#include <set>
#include <stdexcept>
#include <utility>

namespace prn {

namespace {

std::string
errno_text (const char *what, const std::string & path)
{
  return std::string (what) + " " + path + ": " + std::strerror (errno);
}

/* folder/name, written whole or not at all; an existing file is never
 * replaced (`exists` is set then). "" or why not. */
std::string
write_new_file (const std::string & folder, const std::string & name, const std::string & data,
    bool *exists = nullptr)
{
  const AtomicWriteResult written = write_file_atomically (folder + "/" + name, data, {.replace = false});
  if (exists != nullptr)
    *exists = written.exists;
  return written.error;
}

/* What a name of the folder is to a writer of `prefix`. */
enum class NameKind { OTHER, SET_JSON, SET_IMAGE, TEMPORARY };

/* Names of sets: <prefix>-YYYYmmddTHHMMSS.mmmZ-<digits>(.json|.png|-heatmap.png);
 * temporary files: the atomic writer's hidden ones for such a name
 * (prn/atomic_file.h). `base` gets the set's name. */
NameKind
classify (const std::string & name, const std::string & prefix, std::string & base)
{
  static const std::regex set ("(\\d{8}T\\d{6}\\.\\d{3}Z-\\d+)(\\.json|\\.png|-heatmap\\.png)");
  std::string target;
  const bool temporary = is_atomic_temporary (name, &target);
  const std::string &file = temporary ? target : name;
  const std::string head = prefix + "-";
  if (file.rfind (head, 0) != 0)
    return NameKind::OTHER;
  const std::string rest = file.substr (head.size ());
  std::smatch m;
  if (!std::regex_match (rest, m, set))
    return NameKind::OTHER;
  base = prefix + "-" + m[1].str ();
  if (temporary)
    return NameKind::TEMPORARY;
  return m[2] == ".json" ? NameKind::SET_JSON : NameKind::SET_IMAGE;
}

/* The meta's JSON object with the names of the set's files added. */
std::string
json_with_files (const std::string & json, const std::string & image, const std::string & heatmap)
{
  const size_t close = json.rfind ('}');
  if (close == std::string::npos)
    return json;
  std::string out = json.substr (0, close);
  out += ",\"image\":\"" + image + "\"";  /* names are the prefix's characters and digits */
  if (!heatmap.empty ())
    out += ",\"heatmap\":\"" + heatmap + "\"";
  return out + "}";
}

}  // namespace

std::string
SaveWriter::prefix_problem (const std::string & prefix)
{
  if (prefix.empty ())
    return "expected a file name prefix, got an empty one";
  for (const char c : prefix)
    if (!(std::isalnum (static_cast<unsigned char> (c)) || c == '-' || c == '_' || c == '.'))
      return "expected letters, digits, '-', '_' or '.', got '" + prefix + "'";
  if (prefix[0] == '.')
    return "expected a prefix that does not begin with '.' (hidden files), got '" + prefix + "'";
  return "";
}

std::string
SaveWriter::set_name (const std::string & prefix, std::chrono::system_clock::time_point time,
    uint64_t sequence)
{
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds> (time.time_since_epoch ()).count ();
  const time_t seconds = static_cast<time_t> (ms / 1000);
  struct tm utc;
  gmtime_r (&seconds, &utc);
  char stamp[64];
  strftime (stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  char name[128];
  snprintf (name, sizeof name, "%s.%03dZ-%06llu", stamp, static_cast<int> (ms % 1000),
      static_cast<unsigned long long> (sequence));
  return prefix + "-" + name;
}

SaveWriter::SaveWriter (const SaveOptions & options, std::function<void (const SavedSet &)> on_saved,
    std::function<void (const std::string &)> on_failure)
    : options_ (options), on_saved_ (std::move (on_saved)), on_failure_ (std::move (on_failure)),
      queue_ (options.max_queued)
{
  const std::string problem = prefix_problem (options_.prefix);
  if (!problem.empty ())
    throw std::runtime_error ("prefix: " + problem);
  DIR *dir = opendir (options_.folder.c_str ());
  if (dir == nullptr)
    throw std::runtime_error (errno_text ("cannot read the folder", options_.folder));
  /* The sets already there (earlier runs) count for max_files; what an
   * interrupted write left (temporary files, images without their .json) goes. */
  std::vector<std::string> sets, leftovers;
  std::set<std::string> complete;
  std::vector<std::pair<std::string, std::string>> images;  /* file, set */
  while (const struct dirent *e = readdir (dir)) {
    const std::string name = e->d_name;
    std::string base;
    switch (classify (name, options_.prefix, base)) {
      case NameKind::SET_JSON: sets.push_back (base); complete.insert (base); break;
      case NameKind::SET_IMAGE: images.emplace_back (name, base); break;
      case NameKind::TEMPORARY: leftovers.push_back (name); break;
      case NameKind::OTHER: break;
    }
  }
  closedir (dir);
  for (const auto &[file, base] : images)
    if (complete.count (base) == 0)
      leftovers.push_back (file);
  for (const std::string &name : leftovers)
    unlink ((options_.folder + "/" + name).c_str ());
  if (options_.max_files > 0) {
    std::sort (sets.begin (), sets.end ());
    kept_.assign (sets.begin (), sets.end ());
    trim ();
  }
  worker_ = std::thread (&SaveWriter::run, this);
}

SaveWriter::~SaveWriter ()
{
  stop ();
}

void
SaveWriter::stop ()
{
  queue_.stop ();
  if (worker_.joinable ())
    worker_.join ();
}

bool
SaveWriter::push (SaveJob job)
{
  return queue_.push (std::move (job));
}

std::string
SaveWriter::write_set (const SaveJob & job, SavedSet & saved)
{
  const std::string &folder = options_.folder;
  const bool with_heatmap = job.heatmap && options_.lut != nullptr;

  /* Encoded first (encode_png throws): nothing is written for a frame that fails. */
  const std::string image_png = encode_png (job.frame, options_.compression);
  std::string heatmap_png;
  if (with_heatmap) {
    const SaveHeatmap &h = *job.heatmap;
    heatmap_png = encode_png (render_heatmap (h.scores.data (), h.width, h.height, h.scale_x,
        job.frame.width, options_.lut), options_.compression);
  }
  /* A folder removed while running (a clean-up, an unmounted disk) is made again. */
  std::error_code ec;
  std::filesystem::create_directories (folder, ec);

  /* The frame's file claims the name: a set of the same name (another writer,
   * a clock set back) is never replaced; the next sequence number is tried. */
  std::string base, why;
  for (int attempt = 0; attempt < 100; attempt++) {
    base = set_name (options_.prefix, job.time, sequence_);
    bool exists = false;
    why = write_new_file (folder, base + ".png", image_png, &exists);
    if (!exists)
      break;
    sequence_++;
  }
  if (!why.empty ())
    return why;
  const std::string image = base + ".png", heatmap = with_heatmap ? base + "-heatmap.png" : "";
  if (with_heatmap)
    why = write_new_file (folder, heatmap, heatmap_png);
  if (why.empty ())
    why = write_new_file (folder, base + ".json", json_with_files (job.json, image, heatmap) + "\n");
  if (!why.empty ()) {
    unlink ((folder + "/" + image).c_str ());
    if (with_heatmap)
      unlink ((folder + "/" + heatmap).c_str ());
    return why;
  }
  sequence_++;
  if (options_.max_files > 0)
    kept_.push_back (base);
  saved = {folder + "/" + image, with_heatmap ? folder + "/" + heatmap : "",
    folder + "/" + base + ".json"};
  return "";
}

void
SaveWriter::trim ()
{
  if (options_.max_files == 0)
    return;
  while (kept_.size () > options_.max_files) {
    const std::string base = options_.folder + "/" + kept_.front ();
    kept_.pop_front ();
    unlink ((base + ".json").c_str ());  /* first: a set without it no longer counts */
    unlink ((base + ".png").c_str ());
    unlink ((base + "-heatmap.png").c_str ());
  }
}

void
SaveWriter::run ()
{
  while (std::optional<SaveJob> job = queue_.take ()) {
    SavedSet saved;
    std::string why;
    try {
      why = write_set (*job, saved);
    } catch (const std::exception &e) {
      why = e.what ();
    }
    if (why.empty ()) {
      trim ();
      on_saved_ (saved);
      queue_.finish (JobOutcome::DONE);
    } else {
      if (queue_.failure_begins_outage ())
        on_failure_ (why);      /* still pending: an EOS waiting for the queue reports after it */
      queue_.finish (JobOutcome::FAILED);
    }
  }
}

}  // namespace prn
