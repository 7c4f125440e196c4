/* prnsim: the web that prnwebsrc plays, without GObject: an image file or a
 * generated texture web (prn::data::render_linescan_web), its ground truth, and
 * the rows of one buffer. */
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace prn::sim {

/* A failure of start(): the text is for the user (it names the property, file
 * or value); kind tells the element which GStreamer error to post. */
struct WebError : std::runtime_error {
  enum Kind { NOT_FOUND, OPEN_READ, OPEN_WRITE, SETTINGS };
  Kind kind;
  WebError (Kind k, const std::string &text) : std::runtime_error (text), kind (k) {}
};

/* The properties that say what to play, copied under the object lock. */
struct WebSettings {
  std::string location, texture, defect_kinds;
  int64_t width = 0, lines = 0, tile = 0, defects = 0;
  uint64_t seed = 0;
};

struct TruthDefect {
  std::string kind;
  int64_t x = 0, y = 0, width = 0, height = 0, area = 0;
};

/* What start() loads and stop() frees. */
struct Web {
  cv::Mat rgb;                       /* lines x width, CV_8UC3 in R, G, B order */
  std::vector<TruthDefect> defects;  /* a generated web's planted defects */
  bool generated = false;
  std::string sidecar;               /* an image's ground truth file, when found */
  std::string name;                  /* for messages: the file played */

  void clear ();
};

/* A texture property as a file: an existing file as it is, otherwise a system
 * texture (prn::data::find_system_textures) whose name matches, ignoring case:
 * "burlap", "burlap.pat", "Fabric/burlap" or "Fabric/burlap.pat". */
std::string resolve_texture (const std::string &name);

/* The comma list of the defect-kinds property (spaces around names ignored). */
std::vector<std::string> split_kinds (const std::string &list);

/* Loads what the settings say: exactly one of location and texture. */
Web load_web (const WebSettings &s);

/* An image's ground-truth sidecar: <image without extension>.truth.jsonl. */
std::string sidecar_path (const std::string &image);

/* The truth file: one JSON object per defect and line, {"kind","x","y","width",
 * "height","area","loop"}; those of the first `rows` web rows only. */
std::string truth_json_lines (const std::vector<TruthDefect> &defects, int64_t rows, int64_t loop);

/* Writes the truth file atomically for a web whose first `rows` rows are
 * played (loop: the web repeats): a generated web's defects, or an image's
 * sidecar copied as it is. False (nothing written) for an image without one.
 * Throws WebError naming the file. */
bool write_truth (const Web &web, const std::string &path, uint64_t rows, bool loop);

/* Writes `count` rows starting at stream row `row` (web row row mod lines) into
 * dst with `stride`: RGB bytes, or BT.601 luma for grey. */
void copy_rows (const cv::Mat &rgb, uint64_t row, int count, bool grey, uint8_t *dst, int stride);

/* BT.601 luma in OpenCV's fixed point (cv::COLOR_RGB2GRAY on 8 bits). */
inline uint8_t
luma (uint8_t r, uint8_t g, uint8_t b)
{
  return static_cast<uint8_t> ((r * 4899 + g * 9617 + b * 1868 + 8192) >> 14);
}

}  // namespace prn::sim
