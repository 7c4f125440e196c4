// prnanomaly data: anomaly-detection datasets on disk, and the seen-anomaly
// protocol of supervised training. Needs OpenCV (library prn-data).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prn::data {

// One image of a dataset split. mask_path is empty for normal images (the
// readers below require a mask file for every anomalous image; load_mask of an
// empty path gives zeros).
struct Sample {
  std::string image_path;
  std::string mask_path;
  std::string defect;   // "good" for normal images, else the defect kind
  bool anomalous = false;
};

// A category's listing. train_normal: normal training images. test: the
// evaluation split (normal and anomalous). seen: the seen anomalies drawn for
// supervised training (removed from `test`).
struct CategoryListing {
  std::string root;     // the category folder
  std::string category; // its name
  std::string layout;   // "mvtec", "btad", "ksdd2", "dagm"
  std::vector<Sample> train_normal;
  std::vector<Sample> test;
  std::vector<Sample> seen;
  // Defect kinds present in the test split, sorted.
  std::vector<std::string> defect_kinds() const;
  // Hex SHA-256 of the sorted relative paths (relative to root, '/'-separated,
  // one per line) of every listed image and mask file, in train_normal, test
  // and seen: provenance. Moving samples between test and seen keeps the hash.
  std::string listing_hash() const;
};

// Reads one category folder in a published layout (see docs/datasets.md):
//  mvtec: <cat>/train/good, <cat>/test/<defect>, <cat>/ground_truth/<defect>/<name>_mask.png
//  btad:  <cat>/train/ok, <cat>/test/{ok,ko}, <cat>/ground_truth/ko/<name>.png
//  ksdd2: <root>/train, <root>/test with <id>.png and <id>_GT.png (non-empty GT = anomalous)
//  dagm:  <root>/Train, <root>/Test with Label/<name>_label.PNG for defective images
// layout "auto" guesses from the folder names (train/ok or test/ko: btad;
// train/good or ground_truth: mvtec; Train/Label or Test/Label: dagm; train and
// test holding *_GT files: ksdd2). Any image format OpenCV reads (by extension).
// Every list is sorted by path. Defect kinds: the folder names for mvtec, "ko"
// for btad, "defect" for ksdd2 and dagm; anomalous training images of ksdd2 and
// dagm are left out (train_normal holds normal images only). Throws prn::Error
// naming the folder and what is missing (a folder, a mask), or the unknown layout.
CategoryListing read_category(const std::string &folder, const std::string &layout = "auto");

// The paper's protocol: n anomalies drawn from the test split with a seed,
// floor(n / kinds) from each defect kind (all of a kind that has fewer), the
// rest at random from what is left; moved from listing.test to listing.seen
// (sorted by path). Deterministic for (listing, n, seed), with a generator of
// its own (not the standard library's distributions). n = 0 draws nothing; n
// larger than the anomalies available, or negative, throws prn::Error.
void draw_seen_anomalies(CategoryListing &listing, int64_t n, uint64_t seed);

// Uses an explicit folder of seen anomalies instead: images in `folder`, masks
// in `folder`/masks/<stem>_mask.png (or <stem>.png). They replace listing.seen
// (defect "seen"); test samples that are the same files leave the test split.
// Throws prn::Error naming a missing mask, or for a missing or empty folder.
void use_seen_folder(CategoryListing &listing, const std::string &folder);

// Loads an image as (3, size, size) float32 RGB in [0, 1] (greyscale expanded
// to 3 channels; resized with area interpolation). size <= 0 keeps the size.
torch::Tensor load_image(const std::string &path, int64_t size);
// Loads a mask as (1, size, size) float32 in {0, 1} (nearest resampling; any
// non-zero pixel is defective). An empty path gives zeros.
torch::Tensor load_mask(const std::string &path, int64_t size);

// Helpers shared by the readers, the seen folder and the line-scan generator.
// True when the file name ends in an image extension OpenCV reads (png, jpg,
// jpeg, bmp, tif, tiff, pgm, ppm, pbm, pnm, webp; any case).
bool is_image_file(const std::string &path);
// The image files directly in `folder` (not recursive, hidden files skipped),
// sorted. Throws prn::Error when the folder does not exist.
std::vector<std::string> list_images(const std::string &folder);
// SHA-256 of bytes as 64 lower-case hex digits (FIPS 180-4).
std::string sha256_hex(const std::string &bytes);

} // namespace prn::data
