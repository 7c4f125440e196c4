/* prnsim: loading the web that prnwebsrc plays, its truth and its rows. */
#include "prnwebsim.h"

#include <prn/data/linescan.h>
#include <prn/error.h>
#include <prn/state_dict.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace prn::sim {

namespace {

std::string
lower (std::string s)
{
  for (char &c : s)
    c = static_cast<char> (std::tolower (static_cast<unsigned char> (c)));
  return s;
}

std::string
quoted (const std::string &s)
{
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char> (c) < 0x20) {
      char buf[8];
      std::snprintf (buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Web
load_image (const std::string &path)
{
  std::error_code ec;
  if (!fs::exists (path, ec))
    throw WebError (WebError::NOT_FOUND, "Image file \"" + path + "\" (property location) does not exist.");
  if (!fs::is_regular_file (path, ec))
    throw WebError (WebError::OPEN_READ, "\"" + path + "\" (property location) is not a file.");
  cv::Mat bgr;
  try {
    bgr = cv::imread (path, cv::IMREAD_COLOR);   /* 8 bits, 3 channels; grey replicated */
  } catch (const cv::Exception &e) {
    throw WebError (WebError::OPEN_READ, "Could not read \"" + path + "\" (property location) as an image: " + e.what ());
  }
  if (bgr.empty ())
    throw WebError (WebError::OPEN_READ, "Could not read \"" + path +
        "\" (property location) as an image: OpenCV cannot decode it.");
  Web web;
  cv::cvtColor (bgr, web.rgb, cv::COLOR_BGR2RGB);
  web.name = path;
  const std::string side = sidecar_path (path);
  if (fs::is_regular_file (side, ec))
    web.sidecar = side;
  return web;
}

Web
generate (const WebSettings &s)
{
  const std::string path = resolve_texture (s.texture);
  try {
    (void) prn::data::load_texture (path);
  } catch (const std::exception &e) {
    throw WebError (WebError::OPEN_READ, "Could not read texture \"" + path + "\" (property texture=" + s.texture +
        "): " + e.what ());
  }
  const std::vector<std::string> kinds = split_kinds (s.defect_kinds);
  prn::data::LineScanWeb lw;
  try {
    lw = prn::data::render_linescan_web (path, s.width, s.lines, s.tile, s.defects, kinds, s.seed);
  } catch (const prn::Error &e) {
    throw WebError (WebError::SETTINGS, "Cannot generate the web (texture=" + s.texture + " width=" +
        std::to_string (s.width) + " web-lines=" + std::to_string (s.lines) + " tile=" + std::to_string (s.tile) +
        " defects=" + std::to_string (s.defects) + " defect-kinds=" + s.defect_kinds + "): " + e.what ());
  }
  Web web;
  web.rgb = cv::Mat (static_cast<int> (lw.rgb8.size (0)), static_cast<int> (lw.rgb8.size (1)), CV_8UC3,
      lw.rgb8.data_ptr<uint8_t> ()).clone ();
  for (const auto &d : lw.defects)
    web.defects.push_back ({d.kind, d.x, d.y, d.width, d.height, d.area});
  web.generated = true;
  web.name = path;
  return web;
}

}  // namespace

void
Web::clear ()
{
  rgb.release ();
  defects.clear ();
  generated = false;
  sidecar.clear ();
  name.clear ();
}

std::string
resolve_texture (const std::string &name)
{
  std::error_code ec;
  if (fs::is_regular_file (name, ec))
    return name;
  const std::vector<std::string> all = prn::data::find_system_textures ();
  const std::string want = lower (name);
  std::set<std::string> names;
  for (const auto &p : all) {
    const fs::path f (p);
    const std::string dir = f.parent_path ().filename ().string () + "/";
    for (const std::string &candidate : {f.filename ().string (), f.stem ().string (),
            dir + f.filename ().string (), dir + f.stem ().string ()})
      if (!want.empty () && lower (candidate) == want)
        return p;
    names.insert (f.stem ().string ());
  }
  if (all.empty ())
    throw WebError (WebError::NOT_FOUND, "Texture \"" + name + "\" (property texture) is not a file, and no "
        "system textures are installed (the packages gimp-data, gimp-data-extras, python3-skimage).");
  std::string list;
  for (const auto &n : names)
    list += (list.empty () ? "" : ", ") + n;
  throw WebError (WebError::NOT_FOUND, "Texture \"" + name + "\" (property texture) is neither a file nor one of "
      "the " + std::to_string (names.size ()) + " system textures: " + list + ".");
}

std::vector<std::string>
split_kinds (const std::string &list)
{
  std::vector<std::string> out;
  std::stringstream ss (list);
  std::string item;
  while (std::getline (ss, item, ',')) {
    const auto b = item.find_first_not_of (" \t"), e = item.find_last_not_of (" \t");
    if (b != std::string::npos)
      out.push_back (item.substr (b, e - b + 1));
  }
  return out;
}

std::string
sidecar_path (const std::string &image)
{
  return (fs::path (image).parent_path () / (fs::path (image).stem ().string () + ".truth.jsonl")).string ();
}

Web
load_web (const WebSettings &s)
{
  if (!s.location.empty () && !s.texture.empty ())
    throw WebError (WebError::SETTINGS, "Set either location or texture, not both (location=" + s.location +
        ", texture=" + s.texture + ").");
  if (s.location.empty () && s.texture.empty ())
    throw WebError (WebError::SETTINGS, "Set location (an image file) or texture (a texture file, or a name "
        "such as burlap) to say what to play.");
  return s.location.empty () ? generate (s) : load_image (s.location);
}

std::string
truth_json_lines (const std::vector<TruthDefect> &defects, int64_t rows, int64_t loop)
{
  std::ostringstream out;
  for (const auto &d : defects)
    if (d.y + d.height <= rows)
      out << "{\"kind\":" << quoted (d.kind) << ",\"x\":" << d.x << ",\"y\":" << d.y << ",\"width\":" << d.width
          << ",\"height\":" << d.height << ",\"area\":" << d.area << ",\"loop\":" << loop << "}\n";
  return out.str ();
}

bool
write_truth (const Web &web, const std::string &path, uint64_t rows, bool loop)
{
  std::string text;
  if (web.generated) {
    text = truth_json_lines (web.defects, static_cast<int64_t> (rows), loop ? web.rgb.rows : 0);
  } else if (!web.sidecar.empty ()) {
    std::ifstream in (web.sidecar, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf ();
    if (!in)
      throw WebError (WebError::OPEN_READ, "Could not read \"" + web.sidecar + "\", the ground truth of location.");
    text = all.str ();
  } else {
    return false;
  }
  try {
    prn::write_file_atomic (path, text);
  } catch (const std::exception &e) {
    throw WebError (WebError::OPEN_WRITE, "Could not write truth-location \"" + path + "\": " + e.what ());
  }
  return true;
}

void
copy_rows (const cv::Mat &rgb, uint64_t row, int count, bool grey, uint8_t *dst, int stride)
{
  const uint64_t lines = static_cast<uint64_t> (rgb.rows);
  const int width = rgb.cols;
  for (int i = 0; i < count; i++, dst += stride) {
    const uint8_t *src = rgb.ptr<uint8_t> (static_cast<int> ((row + static_cast<uint64_t> (i)) % lines));
    if (!grey) {
      std::memcpy (dst, src, static_cast<size_t> (width) * 3);
      continue;
    }
    for (int x = 0; x < width; x++, src += 3)
      dst[x] = luma (src[0], src[1], src[2]);
  }
}

}  // namespace prn::sim
