// prn-make-linescan: renders a continuous web from a real texture as a line
// camera sees it, plants defects with exact masks, and writes a dataset in
// MVTec layout (see docs/datasets.md).
//
//   prn-make-linescan --out DIR [--category NAME] [--texture FILE] [--width N]
//                     [--lines N] [--tile N] [--train-normal N] [--test-normal N]
//                     [--test-per-kind N] [--kinds a,b,...] [--seed S]
//   prn-make-linescan --list-textures
#include "common/args.h"
#include "common/main.h"
#include "prn/data/dataset.h"
#include "prn/data/linescan.h"
#include "prn/error.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

struct MakeLinescanParams {
  std::string out;
  std::string category = "linescan";
  bool list_textures = false;
  prn::data::LineScanOptions options; // texture empty: the first system texture that loads
};

void usage(const char *argv0) {
  std::printf("usage: %s --out DIR [options]\n"
              "       %s --list-textures\n"
              "Writes DIR/CATEGORY/{train/good,test/good,test/<kind>,ground_truth/<kind>} (MVTec layout),\n"
              "DIR/CATEGORY/web.png (the whole web with defect outlines) and linescan.json.\n"
              "  --out DIR            output folder (required)\n"
              "  --category NAME      category folder name (default linescan); an existing one is refused\n"
              "  --texture FILE       a GIMP .pat or any image (default: the first of --list-textures that loads)\n"
              "  --list-textures      print the texture files found on this system and exit\n"
              "  --width N            web width in pixels, the camera line (default 1024)\n"
              "  --lines N            web length in lines (default 4096)\n"
              "  --tile N             tile size of the images cut from the web (default 256)\n"
              "  --train-normal N     normal training tiles (default 60)\n"
              "  --test-normal N      normal test tiles (default 20)\n"
              "  --test-per-kind N    defective test tiles per kind (default 8)\n"
              "  --kinds LIST         defect kinds, comma-separated, from scratch,spot,hole,fold (default all)\n"
              "  --seed S             seed: the same options give the same files (default 0)\n",
              argv0, argv0);
}

MakeLinescanParams parse(int argc, char **argv) {
  MakeLinescanParams p;
  prn::cli::Args args(argc, argv);
  while (args.next()) {
    const std::string &a = args.option();
    auto &o = p.options;
    if (a == "-h" || a == "--help") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--out") {
      p.out = args.value();
    } else if (a == "--category") {
      p.category = args.value();
    } else if (a == "--texture") {
      o.texture = args.value();
    } else if (a == "--list-textures") {
      p.list_textures = true;
    } else if (a == "--width") {
      o.width = args.non_negative();
    } else if (a == "--lines") {
      o.lines = args.non_negative();
    } else if (a == "--tile") {
      o.tile = args.non_negative();
    } else if (a == "--train-normal") {
      o.train_normal = args.non_negative();
    } else if (a == "--test-normal") {
      o.test_normal = args.non_negative();
    } else if (a == "--test-per-kind") {
      o.test_per_kind = args.non_negative();
    } else if (a == "--kinds") {
      o.defect_kinds.clear();
      o.defect_kinds = args.list();
      if (o.defect_kinds.empty())
        throw prn::Error("option --kinds: expected a comma-separated list of scratch, spot, hole, fold");
    } else if (a == "--seed") {
      o.seed = static_cast<uint64_t>(args.non_negative());
    } else {
      throw prn::Error("unknown option '" + a + "' (see --help)");
    }
  }
  if (!p.list_textures && p.out.empty())
    throw prn::Error("--out DIR is required (see --help)");
  return p;
}

// The first system texture that loads; the reasons the others failed otherwise.
std::string default_texture() {
  const auto all = prn::data::find_system_textures();
  std::string why;
  for (const auto &t : all) {
    try {
      prn::data::load_texture(t);
      return t;
    } catch (const prn::Error &e) {
      why += std::string("\n  ") + e.what();
    }
  }
  throw prn::Error("no texture given and none found on this system (looked in /usr/share/gimp/2.0/patterns and "
                   "python3-skimage's data; install gimp-data or pass --texture FILE)" +
                   why);
}

} // namespace

namespace {

int run(int argc, char **argv) {
  MakeLinescanParams p = parse(argc, argv);
  if (p.list_textures) {
    for (const auto &t : prn::data::find_system_textures())
      std::printf("%s\n", t.c_str());
    return 0;
  }
  if (p.options.texture.empty())
    p.options.texture = default_texture();
  const auto &o = p.options;
  std::string kinds;
  for (const auto &k : o.defect_kinds)
    kinds += (kinds.empty() ? "" : ",") + k;
  std::fprintf(stderr, "rendering a %lld x %lld web (lines x width) from %s, tiles %lld, kinds %s, seed %llu\n",
               static_cast<long long>(o.lines), static_cast<long long>(o.width), o.texture.c_str(),
               static_cast<long long>(o.tile), kinds.c_str(), static_cast<unsigned long long>(o.seed));
  const auto start = std::chrono::steady_clock::now();
  const std::string folder = prn::data::write_linescan_dataset(p.out, p.category, o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Read it back: what a trainer will see.
  const auto listing = prn::data::read_category(folder, "mvtec");
  std::map<std::string, int> per_kind;
  int test_good = 0;
  for (const auto &s : listing.test)
    s.anomalous ? ++per_kind[s.defect] : ++test_good;
  std::printf("wrote %s in %.1f s (MVTec layout, %lldx%lld PNG tiles)\n", folder.c_str(), secs,
              static_cast<long long>(o.tile), static_cast<long long>(o.tile));
  std::printf("  train/good     %zu\n", listing.train_normal.size());
  std::printf("  test/good      %d\n", test_good);
  for (const auto &[kind, n] : per_kind)
    std::printf("  test/%-9s %d  (masks in ground_truth/%s)\n", kind.c_str(), n, kind.c_str());
  std::printf("  web.png        the whole web with defect outlines; linescan.json: options and defect positions\n");
  std::printf("  listing hash   %s\n", listing.listing_hash().c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return prn::cli::run_main("prn-make-linescan", [&] { return run(argc, argv); });
}
