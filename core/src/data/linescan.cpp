// The line-scan dataset generator: a continuous web rendered from a texture as
// a line camera sees it, defects planted with exact masks, tiles cut and
// written in MVTec layout.
#include "prn/data/linescan.h"

#include "prn/data/dataset.h"
#include "data/defects.h"
#include "data/rng.h"
#include "prn/error.h"
#include "prn/state_dict.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <unistd.h>

namespace fs = std::filesystem;

namespace prn::data {

namespace {

using detail::DefectStyle;
using detail::Rng;
using detail::check_kinds;
using detail::defect_style;
using detail::plant_in_cell;


struct Planted {
  std::string kind;
  cv::Rect tile, bbox; // web coordinates
  int id = 0, pixels = 0;
  std::string name;
};

// Where the tiles come from: training tiles in lines [0, train_h), test tiles
// in [test_y0, L) (a grid of cells, shuffled: defects first, clean after).
struct Plan {
  int T, W, L, test_y0, train_h;
  std::vector<cv::Rect> cells;
};

Plan make_plan(const LineScanOptions &o, int64_t n_defects, Rng &rng) {
  Plan p{static_cast<int>(o.tile), static_cast<int>(o.width), static_cast<int>(o.lines), 0, 0, {}};
  const int nc = p.W / p.T;
  const int64_t clean = o.test_normal > 0 ? std::max<int64_t>(1, (o.test_normal + 3) / 4) : 0;
  const int64_t rows = (n_defects + clean + nc - 1) / nc;
  const int64_t gap = rows > 0 && o.train_normal > 0 ? p.T / 4 : 0;
  const int64_t need = rows * p.T + gap + (o.train_normal > 0 ? p.T : 0);
  PRN_CHECK(o.lines >= need, "line-scan: ", o.lines, " lines are too few for ", n_defects, " defect tiles and ",
            o.test_normal, " normal test tiles of ", p.T, " at width ", p.W,
            " plus training tiles: need at least ", need, " lines");
  p.test_y0 = static_cast<int>(p.L - rows * p.T);
  p.train_h = static_cast<int>(p.test_y0 - gap);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < nc; ++c)
      p.cells.emplace_back(nc == 1 ? (p.W - p.T) / 2 : c * (p.W - p.T) / (nc - 1), p.test_y0 + r * p.T, p.T, p.T);
  for (size_t i = p.cells.size(); i > 1; --i)
    std::swap(p.cells[i - 1], p.cells[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(i) - 1))]);
  return p;
}

// Test normals: random tiles clear of every defect (6 px around it), at first
// at most half overlapping each other; the clean cells are the last resort.
std::vector<cv::Rect> place_test_normals(const Plan &p, const std::vector<Planted> &defects, int64_t n, Rng &rng) {
  std::vector<cv::Rect> out;
  size_t fallback = defects.size();
  for (int64_t i = 0; i < n; ++i) {
    bool ok = false;
    cv::Rect r;
    for (int tries = 0; tries < 4000 && !ok; ++tries) {
      r = cv::Rect(static_cast<int>(rng.integer(0, p.W - p.T)), static_cast<int>(rng.integer(p.test_y0, p.L - p.T)),
                   p.T, p.T);
      ok = true;
      for (const auto &d : defects)
        ok = ok && (r & cv::Rect(d.bbox.x - 6, d.bbox.y - 6, d.bbox.width + 12, d.bbox.height + 12)).area() == 0;
      for (const auto &u : out)
        ok = ok && (tries >= 2000 || (r & u).area() * 2 <= p.T * p.T);
    }
    if (!ok) {
      PRN_CHECK(fallback < p.cells.size(), "line-scan: no room for ", n, " normal test tiles; give more lines");
      r = p.cells[fallback++];
    }
    out.push_back(r);
  }
  return out;
}

void write_png(const fs::path &path, const cv::Mat &m) {
  std::vector<uchar> buf;
  PRN_CHECK(cv::imencode(".png", m, buf), "cannot encode PNG for '", path.string(), "'");
  write_file_atomic(path.string(), std::string(buf.begin(), buf.end()));
}

// web.png: the whole web at most 2048 px long; red defect outlines, yellow
// defect tiles with their kind, green normal test tiles, the train/test line.
cv::Mat preview(const cv::Mat &web8, const cv::Mat &labels, const Plan &p, const std::vector<Planted> &defects,
                const std::vector<cv::Rect> &test_tiles) {
  const double f = std::min(1.0, 2048.0 / std::max(p.L, p.W));
  cv::Mat out, small;
  cv::resize(web8, out, cv::Size(), f, f, cv::INTER_AREA);
  auto scaled = [&](const cv::Rect &r) {
    return cv::Rect(cv::Point(static_cast<int>(r.x * f), static_cast<int>(r.y * f)),
                    cv::Point(static_cast<int>(r.br().x * f) - 1, static_cast<int>(r.br().y * f) - 1));
  };
  const cv::Scalar cyan(255, 255, 0), green(0, 200, 0), yellow(0, 220, 255), red(0, 0, 255);
  for (const auto &r : test_tiles)
    cv::rectangle(out, scaled(r), green, 1);
  const int split = static_cast<int>(p.test_y0 * f);
  cv::line(out, cv::Point(0, split), cv::Point(out.cols, split), cyan, 1);
  cv::putText(out, "train", cv::Point(4, 14), cv::FONT_HERSHEY_SIMPLEX, 0.45, cyan, 1);
  cv::putText(out, "test", cv::Point(4, split + 14), cv::FONT_HERSHEY_SIMPLEX, 0.45, cyan, 1);
  for (const auto &d : defects) {
    cv::rectangle(out, scaled(d.tile), yellow, 1);
    cv::putText(out, d.kind, scaled(d.tile).tl() + cv::Point(3, 12), cv::FONT_HERSHEY_SIMPLEX, 0.4, yellow, 1);
  }
  cv::resize(labels != 0, small, out.size(), 0, 0, cv::INTER_AREA);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(small > 0, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(out, contours, -1, red, 1);
  return out;
}

// linescan.json: the options and where every tile was cut (web x, y).
std::string manifest(const LineScanOptions &o, const Plan &p, const std::vector<Planted> &defects,
                     const std::vector<cv::Rect> &train, const std::vector<cv::Rect> &test) {
  std::ostringstream js;
  std::string texture;
  for (char ch : o.texture)
    texture += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
  js << "{\n  \"texture\": \"" << texture << "\",\n  \"width\": " << p.W << ", \"lines\": " << p.L
     << ", \"tile\": " << p.T << ", \"seed\": " << o.seed << ",\n  \"test_region_first_line\": " << p.test_y0
     << ",\n  \"defects\": [";
  for (size_t i = 0; i < defects.size(); ++i) {
    const auto &d = defects[i];
    js << (i ? "," : "") << "\n    {\"kind\": \"" << d.kind << "\", \"name\": \"" << d.name << "\", \"tile\": ["
       << d.tile.x << ", " << d.tile.y << "], \"bbox\": [" << d.bbox.x << ", " << d.bbox.y << ", " << d.bbox.width
       << ", " << d.bbox.height << "]}";
  }
  js << "\n  ]";
  for (const auto &[key, v] : {std::make_pair("train_good", &train), std::make_pair("test_good", &test)}) {
    js << ",\n  \"" << key << "\": [";
    for (size_t i = 0; i < v->size(); ++i)
      js << (i ? ", " : "") << "[" << (*v)[i].x << ", " << (*v)[i].y << "]";
    js << "]";
  }
  js << "\n}\n";
  return js.str();
}

std::string numbered(size_t i, size_t count) {
  const int digits = std::max(3, static_cast<int>(std::to_string(count > 0 ? count - 1 : 0).size()));
  std::string s = std::to_string(i);
  return std::string(static_cast<size_t>(std::max(0, digits - static_cast<int>(s.size()))), '0') + s;
}

} // namespace

std::string write_linescan_dataset(const std::string &out_dir, const std::string &category,
                                   const LineScanOptions &o) {
  PRN_CHECK(!category.empty() && category.find('/') == std::string::npos && category != "." && category != "..",
            "line-scan: bad category name '", category, "'");
  PRN_CHECK(o.tile >= 32, "line-scan: expected tile >= 32, got ", o.tile);
  PRN_CHECK(o.width >= o.tile && o.width <= 16384, "line-scan: expected tile <= width <= 16384, got width ", o.width,
            " and tile ", o.tile);
  PRN_CHECK(o.lines >= o.tile && o.lines * o.width <= (int64_t(1) << 27), "line-scan: expected tile <= lines and ",
            "lines x width <= 2^27 pixels, got ", o.lines, " lines");
  PRN_CHECK(o.train_normal >= 0 && o.test_normal >= 0 && o.test_per_kind >= 0,
            "line-scan: image counts must be >= 0");
  check_kinds(o.defect_kinds);
  const fs::path final_dir = fs::path(out_dir) / category;
  std::error_code ec;
  PRN_CHECK(!fs::exists(final_dir, ec), "line-scan: '", final_dir.string(),
            "' already exists; remove it or choose another category");

  Rng rng{o.seed * 0x2545f4914f6cdd1dULL + 0x51ca11ULL};
  const int64_t n_defects = o.test_per_kind * static_cast<int64_t>(o.defect_kinds.size());
  PRN_CHECK(o.train_normal >= 1 && o.test_normal + n_defects >= 1,
            "line-scan: a dataset needs at least one training tile and one test tile, got ", o.train_normal,
            " training, ", o.test_normal, " normal test and ", n_defects, " defect tiles");
  const Plan plan = make_plan(o, n_defects, rng);
  const int T = plan.T, W = plan.W, L = plan.L;
  auto rgb = render_texture_web(o.texture, o.lines, o.width, o.tile, o.seed).permute({1, 2, 0}).contiguous();
  cv::Mat web = cv::Mat(L, W, CV_32FC3, rgb.data_ptr<float>()).clone();
  rgb = torch::Tensor();
  const DefectStyle style = defect_style(web);

  // One defect per defect cell, kinds interleaved; its tile is the cell moved
  // by up to tile/8 - 2 px: it still holds the whole defect and no other.
  cv::Mat labels = cv::Mat::zeros(L, W, CV_16U); // defect index + 1
  const int margin = T / 8;
  std::vector<Planted> defects;
  for (int64_t i = 0; i < n_defects; ++i) {
    const std::string &kind = o.defect_kinds[static_cast<size_t>(i) % o.defect_kinds.size()];
    const cv::Rect cell = plan.cells[static_cast<size_t>(i)];
    const auto [bbox, pixels] = plant_in_cell(kind, web, cell, o.tile, rng, style, labels, static_cast<int>(i + 1));
    const int j = margin - 2;
    cv::Rect t(cell.x + static_cast<int>(rng.integer(-j, j)), cell.y + static_cast<int>(rng.integer(-j, j)), T, T);
    t.x = std::clamp(t.x, 0, W - T), t.y = std::clamp(t.y, 0, L - T);
    defects.push_back({kind, t, bbox, static_cast<int>(i + 1), pixels, ""});
  }
  std::vector<cv::Rect> test_tiles = place_test_normals(plan, defects, o.test_normal, rng), train_tiles;
  for (int64_t i = 0; i < o.train_normal; ++i)
    train_tiles.emplace_back(static_cast<int>(rng.integer(0, W - T)), static_cast<int>(rng.integer(0, plan.train_h - T)),
                             T, T);
  auto by_pos = [](const cv::Rect &a, const cv::Rect &b) { return std::tie(a.y, a.x) < std::tie(b.y, b.x); };
  std::sort(train_tiles.begin(), train_tiles.end(), by_pos);
  std::sort(test_tiles.begin(), test_tiles.end(), by_pos);
  std::stable_sort(defects.begin(), defects.end(), [](const Planted &a, const Planted &b) {
    return std::tie(a.kind, a.tile.y, a.tile.x) < std::tie(b.kind, b.tile.y, b.tile.x);
  });
  std::map<std::string, size_t> counter;
  for (auto &d : defects)
    d.name = numbered(counter[d.kind]++, static_cast<size_t>(o.test_per_kind));
  rgb = torch::from_blob(web.data, {L, W, 3}, torch::kFloat32).permute({2, 0, 1});
  auto shot = line_camera(rgb, o.seed).flip(0).permute({1, 2, 0}).contiguous(); // BGR for OpenCV
  const cv::Mat web8 = cv::Mat(L, W, CV_8UC3, shot.data_ptr<uint8_t>()).clone();
  web.release();

  // Written into a staging folder, renamed into place at the end.
  fs::create_directories(out_dir, ec);
  PRN_CHECK(fs::is_directory(out_dir, ec), "line-scan: cannot create output folder '", out_dir, "'");
  const fs::path stage = fs::path(out_dir) / ("." + category + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(stage, ec);
  try {
    for (const char *d : {"train/good", "test/good"})
      fs::create_directories(stage / d);
    for (const auto &k : o.defect_kinds)
      if (o.test_per_kind > 0)
        fs::create_directories(stage / "test" / k), fs::create_directories(stage / "ground_truth" / k);
    for (size_t i = 0; i < train_tiles.size(); ++i)
      write_png(stage / "train/good" / (numbered(i, train_tiles.size()) + ".png"), web8(train_tiles[i]));
    for (size_t i = 0; i < test_tiles.size(); ++i)
      write_png(stage / "test/good" / (numbered(i, test_tiles.size()) + ".png"), web8(test_tiles[i]));
    for (const auto &d : defects) {
      const cv::Mat mask = labels(d.tile) != 0;
      PRN_CHECK(cv::countNonZero(mask) == d.pixels && cv::countNonZero(labels(d.tile) == d.id) == d.pixels,
                "line-scan: internal error: the ", d.kind, " tile does not hold exactly its defect");
      write_png(stage / "test" / d.kind / (d.name + ".png"), web8(d.tile));
      write_png(stage / "ground_truth" / d.kind / (d.name + "_mask.png"), mask);
    }
    write_png(stage / "web.png", preview(web8, labels, plan, defects, test_tiles));
    write_file_atomic((stage / "linescan.json").string(), manifest(o, plan, defects, train_tiles, test_tiles));
    PRN_CHECK(!fs::exists(final_dir, ec), "line-scan: '", final_dir.string(), "' appeared while writing; refused");
    fs::rename(stage, final_dir);
  } catch (...) {
    fs::remove_all(stage, ec);
    throw;
  }
  return final_dir.string();
}

LineScanWeb render_linescan_web(const std::string &texture, int64_t width, int64_t lines, int64_t tile,
                                int64_t defects, const std::vector<std::string> &kinds, uint64_t seed) {
  PRN_CHECK(tile >= 32 && tile <= 4096, "line-scan web: expected 32 <= tile <= 4096, got tile ", tile);
  PRN_CHECK(width >= tile && width <= 16384, "line-scan web: expected tile <= width <= 16384, got width ", width,
            " and tile ", tile);
  PRN_CHECK(lines >= tile && lines <= (int64_t(1) << 27) / width, "line-scan web: expected tile <= lines and ",
            "lines x width <= 2^27 pixels, got ", lines, " lines of width ", width, " and tile ", tile);
  PRN_CHECK(defects >= 0, "line-scan web: expected defects >= 0, got ", defects);
  PRN_CHECK(defects == 0 || !kinds.empty(), "line-scan web: ", defects, " defects asked but no defect kinds given");
  check_kinds(kinds);
  // Tile-sized cells below the first `tile` lines (the stream starts clean),
  // spread over the width as the dataset generator's are; one defect per cell.
  const int T = static_cast<int>(tile), W = static_cast<int>(width), L = static_cast<int>(lines);
  const int nc = W / T, rows = L / T - 1;
  const int64_t available = static_cast<int64_t>(nc) * rows;
  PRN_CHECK(defects <= available, "line-scan web: ", defects, " defects need as many cells of ", tile, " x ", tile,
            "; a web of ", lines, " lines x ", width, " has ", available, " (its first ", tile,
            " lines stay clean): give fewer defects, more lines or a smaller tile");
  std::vector<cv::Rect> cells;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < nc; ++c)
      cells.emplace_back(nc == 1 ? (W - T) / 2 : c * (W - T) / (nc - 1), T + r * T, T, T);
  Rng rng{seed * 0x2545f4914f6cdd1dULL + 0x3eb5ULL};
  for (int64_t i = 0; i < defects; ++i) // partial Fisher-Yates: the first `defects` cells
    std::swap(cells[static_cast<size_t>(i)], cells[static_cast<size_t>(rng.integer(i, available - 1))]);
  cells.resize(static_cast<size_t>(defects));
  std::sort(cells.begin(), cells.end(),
            [](const cv::Rect &a, const cv::Rect &b) { return std::tie(a.y, a.x) < std::tie(b.y, b.x); });

  auto rgb = render_texture_web(texture, lines, width, tile, seed).permute({1, 2, 0}).contiguous();
  cv::Mat web(L, W, CV_32FC3, rgb.data_ptr<float>()); // planted in place
  const DefectStyle style = defect_style(web);
  LineScanWeb out;
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string &kind = kinds[i % kinds.size()]; // cycled along the web
    const auto [bbox, pixels] = plant_in_cell(kind, web, cells[i], tile, rng, style, cv::Mat(), 0);
    out.defects.push_back({kind, bbox.x, bbox.y, bbox.width, bbox.height, pixels});
  }
  out.rgb8 = line_camera(rgb.permute({2, 0, 1}), seed).permute({1, 2, 0}).contiguous();
  return out;
}

} // namespace prn::data
