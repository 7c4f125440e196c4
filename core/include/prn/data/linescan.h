// prnanomaly data: a generated line-scan dataset from real textures.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prn::data {

// Reads a GIMP pattern file (.pat, version 1 or 2: 1-4 bytes per pixel) as
// (3, H, W) float32 RGB in [0, 1]. Throws prn::Error naming the file.
torch::Tensor read_gimp_pattern(const std::string &path);

// The texture files found in Debian's gimp-data / gimp-data-extras pattern
// folders and python3-skimage's photographs (brick, grass, gravel), sorted.
std::vector<std::string> find_system_textures();

// A texture file as (3, H, W) float32 RGB in [0, 1]: a .pat through
// read_gimp_pattern, anything else through load_image. Throws prn::Error naming
// a missing, unreadable or too small (under 8x8) file.
torch::Tensor load_texture(const std::string &path);

// The texture files under `folder` (recursively; .png .jpg .jpeg .bmp .tif and
// GIMP .pat, extensions in any case), sorted by path. Throws prn::Error naming
// the folder when it is missing or holds no texture.
std::vector<std::string> list_texture_files(const std::string &folder);

// Every texture image under `folder` (recursively; .png .jpg .jpeg .bmp .tif and
// GIMP .pat), sorted by path, each as (3, size, size) float32 RGB in [0, 1]:
// the foreign textures of simulated anomalies (a DTD folder, or GIMP's
// /usr/share/gimp/2.0/patterns). Throws prn::Error naming the folder when it is
// missing or holds no texture, or naming a file that cannot be read.
std::vector<torch::Tensor> load_texture_folder(const std::string &folder, int64_t size);

// The texture alone laid over a web of lines x width, as (3, lines, width)
// float32 RGB: one period made seamless (a .pat tiles by design; a photograph
// is cross-faded with its half-shifted copy near its edges), scaled up so a
// tile x tile image shows about two periods at most, mean brightness brought
// into [0.3, 0.7], wrapped at a random offset, displaced by a smooth random
// field (about 2 px: a web is not rigid, and the repetition is not exact) and
// with a slowly varying contrast. Deterministic for the arguments.
torch::Tensor render_texture_web(const std::string &texture, int64_t lines, int64_t width, int64_t tile,
                                 uint64_t seed);

// What a line camera makes of a web (3, lines, width) float in [0, 1]: a gain
// per column (vignetting to 0.9 at the edges, a smooth +-2% variation and a
// fixed-pattern part of 0.6% per column, 0.3% per channel), an illumination
// drift along the lines (+-3% smooth plus a 1.5% sine over 1500-3000 lines)
// and Gaussian noise (sigma 0.012), quantised to (3, lines, width) uint8.
// Deterministic for (web, seed).
torch::Tensor line_camera(const torch::Tensor &web, uint64_t seed);

struct LineScanOptions {
  std::string texture;      // a .pat or any image OpenCV reads
  int64_t width = 1024;     // web width in pixels (camera line length)
  int64_t lines = 4096;     // web length in lines
  int64_t tile = 256;       // the MVTec images cut from the web
  int64_t train_normal = 60;
  int64_t test_normal = 20;
  int64_t test_per_kind = 8;
  std::vector<std::string> defect_kinds{"scratch", "spot", "hole", "fold"};
  uint64_t seed = 0;
};

// Renders a continuous web as a line camera sees it (the texture tiled and
// scaled across the width, per-column gain, slow illumination drift along the
// lines, sensor noise), plants defects of the given kinds with their masks, and
// writes a dataset in MVTec layout under out_dir/<category>. Returns the
// category folder. Writes atomically per file; an existing folder is refused.
//
// Lines run down the image (y = line index, the motion direction). The web's
// first lines give the training tiles; after a gap of tile/4 lines the rest is
// the test region, a grid of tile x tile cells, one defect per defect cell
// (kinds interleaved), and some cells left clean. Test normals are cut at
// random positions clear of every defect. Written:
//   <category>/train/good/NNN.png, test/good/NNN.png, test/<kind>/NNN.png,
//   ground_truth/<kind>/NNN_mask.png (0/255), web.png (the whole web,
//   downscaled, with defect outlines and the cut tiles), linescan.json (the
//   options and every defect). Defect kinds: scratch, spot, hole, fold.
// Deterministic for the options (the same bytes on a machine). Throws
// prn::Error for bad options, a web too short for the tiles asked, an
// unreadable texture or an existing category folder.
std::string write_linescan_dataset(const std::string &out_dir, const std::string &category,
                                   const LineScanOptions &options);

// A defect planted by render_linescan_web: its kind and the bounding box of its
// mask in web pixels (x along the camera line, y = the web line), and the
// mask's pixel count.
struct PlantedDefect {
  std::string kind;
  int64_t x = 0, y = 0, width = 0, height = 0;
  int64_t area = 0;
};

struct LineScanWeb {
  torch::Tensor rgb8; // (lines, width, 3) uint8 RGB, as the camera saw it
  std::vector<PlantedDefect> defects; // in web order (y, then x)
};

// A whole web as a line camera sees it, for streaming: the texture rendered as
// write_linescan_dataset renders it (render_texture_web, then line_camera, with
// the same seed), with `defects` defects planted by the same code, so they are
// sized as the dataset's are for this tile (a model trained on that dataset
// finds them). The web below its first `tile` lines (which stay clean, so a
// stream starts clean) is a grid of tile x tile cells, floor(width / tile) per
// row spread over the width; the defects go into distinct cells drawn at
// random, each inside its cell's inner box (tile/8 margin), kinds cycled in web
// order. Defects are listed in web order. A defect changes pixels of its cell's
// inner box only (its mask, and a faint fringe of at most a few pixels around
// it): elsewhere the web equals the one rendered with defects = 0. Deterministic for
// the arguments. Throws prn::Error naming the value for tile outside [32, 4096],
// width outside [tile, 16384], lines < tile or lines x width > 2^27, negative
// defects, more defects than cells, an unknown or repeated kind, no kinds with
// defects > 0, or an unreadable texture.
LineScanWeb render_linescan_web(const std::string &texture, int64_t width, int64_t lines, int64_t tile,
                                int64_t defects, const std::vector<std::string> &kinds, uint64_t seed);

} // namespace prn::data
