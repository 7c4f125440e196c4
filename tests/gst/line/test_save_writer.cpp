/* prnsave's parts without GStreamer: file names, prefixes, the heatmap
 * rendering and the PNG encoding (read back with libpng). */
#include "png_reader.h"
#include "prnsave-image.h"
#include "prnsave-writer.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <filesystem>
#include <mutex>
#include <vector>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace prn;

namespace {

/* A temporary file removed when destroyed. */
struct TmpFile {
  TmpFile () { path = "/tmp/prn-save-XXXXXX"; close (mkstemp (path.data ())); }
  ~TmpFile () { unlink (path.c_str ()); }
  std::string path;
};

prntest::PngPixels
round_trip (const SaveImage &image, int compression = 6)
{
  TmpFile f;
  std::ofstream (f.path, std::ios::binary) << encode_png (image, compression);
  prntest::PngPixels p;
  std::string error;
  EXPECT_TRUE (prntest::read_png (f.path, p, error)) << error;
  return p;
}

}  // namespace

TEST (SaveWriter, SetNamesSortInTimeOrder)
{
  /* 2026-12-01 12:00:00.123 UTC */
  const auto t = std::chrono::system_clock::time_point (std::chrono::milliseconds (1796126400123LL));
  EXPECT_EQ (SaveWriter::set_name ("line7", t, 42), "line7-20261201T120000.123Z-000042");
  EXPECT_LT (SaveWriter::set_name ("p", t, 999999), SaveWriter::set_name ("p", t + std::chrono::milliseconds (1), 0));
}

TEST (SaveWriter, PrefixMustBeAPlainFileNameStart)
{
  EXPECT_EQ (SaveWriter::prefix_problem ("line7_cam-2.a"), "");
  EXPECT_NE (SaveWriter::prefix_problem (""), "");
  EXPECT_NE (SaveWriter::prefix_problem ("a/b").find ("a/b"), std::string::npos);
  EXPECT_NE (SaveWriter::prefix_problem (".hidden"), "");
  EXPECT_NE (SaveWriter::prefix_problem ("a b"), "");
}

TEST (SaveWriter, AFolderThatCannotBeReadIsAnErrorNamingIt)
{
  SaveOptions o;
  o.folder = "/nonexistent/prn-save";
  try {
    SaveWriter w (o, [] (const SavedSet &) {}, [] (const std::string &) {});
    FAIL () << "no error for a missing folder";
  } catch (const std::runtime_error &e) {
    EXPECT_NE (std::string (e.what ()).find ("/nonexistent/prn-save"), std::string::npos) << e.what ();
  }
}

TEST (SaveImage, HeatmapCellsCoverScaleColumnsAndScoresAreClamped)
{
  /* A LUT whose red is the entry's index. */
  std::array<uint8_t, 768> lut {};
  for (int i = 0; i < 256; i++)
    lut[3 * i] = static_cast<uint8_t> (i);
  const float scores[] = { 0.0f, 0.5f, 1.0f, -1.0f, 2.0f, 0.25f };  /* 3 x 2 cells */
  const SaveImage out = render_heatmap (scores, 3, 2, 4.0f, 10, lut.data ());
  ASSERT_EQ (out.kind, SaveImage::Kind::RGB8);
  ASSERT_EQ (out.width, 10);
  ASSERT_EQ (out.height, 2);
  const int want[2][10] = { { 0, 0, 0, 0, 128, 128, 128, 128, 255, 255 },
    { 0, 0, 0, 0, 255, 255, 255, 255, 64, 64 } };
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 10; x++)
      EXPECT_EQ (out.pixels[3 * (y * 10 + x)], want[y][x]) << x << "," << y;
}

TEST (SaveImage, PngRoundTripsEveryKind)
{
  SaveImage grey {SaveImage::Kind::GRAY8, 5, 3, {}};
  SaveImage wide {SaveImage::Kind::GRAY16, 5, 3, {}};
  SaveImage rgba {SaveImage::Kind::RGBA8, 5, 3, {}};
  for (int i = 0; i < 15; i++) {
    grey.pixels.push_back (static_cast<uint8_t> (i * 17));
    const uint16_t v = static_cast<uint16_t> (i * 4369 + 1);
    const auto *b = reinterpret_cast<const uint8_t *> (&v);
    wide.pixels.insert (wide.pixels.end (), b, b + 2);
    for (int c = 0; c < 4; c++)
      rgba.pixels.push_back (static_cast<uint8_t> (i * 16 + c));
  }
  for (int compression : { 0, 1, 9 }) {
    SCOPED_TRACE (compression);
    const prntest::PngPixels g = round_trip (grey, compression);
    ASSERT_EQ (g.channels, 1);
    for (int i = 0; i < 15; i++)
      EXPECT_EQ (g.samples[i], i * 17);
  }
  const prntest::PngPixels w = round_trip (wide);
  ASSERT_EQ (w.depth, 16);
  for (int i = 0; i < 15; i++)
    EXPECT_EQ (w.samples[i], i * 4369 + 1);
  const prntest::PngPixels r = round_trip (rgba);
  ASSERT_EQ (r.channels, 4);
  for (int i = 0; i < 60; i++)
    EXPECT_EQ (r.samples[i], (i / 4) * 16 + i % 4);
}

TEST (SaveImage, EncodingAnInvalidImageThrows)
{
  EXPECT_THROW (encode_png (SaveImage {}, 1), std::runtime_error);
  SaveImage short_one {SaveImage::Kind::RGB8, 4, 4, std::vector<uint8_t> (10)};
  EXPECT_THROW (encode_png (short_one, 1), std::runtime_error);
}

TEST (SaveWriter, ANameAlreadyThereIsNeverReplaced)
{
  char folder[] = "/tmp/prn-save-dir-XXXXXX";
  ASSERT_NE (mkdtemp (folder), nullptr);
  const auto t = std::chrono::system_clock::time_point (std::chrono::milliseconds (1796126400123LL));
  const std::string taken = std::string (folder) + "/" + SaveWriter::set_name ("p", t, 0);
  std::ofstream (taken + ".png") << "an earlier set";
  std::ofstream (taken + ".json") << "{}";

  SaveOptions o;
  o.folder = folder;
  o.prefix = "p";
  o.max_files = 0;
  std::vector<SavedSet> saved;
  std::mutex m;
  {
    SaveWriter w (o, [&] (const SavedSet &s) { std::lock_guard<std::mutex> l (m); saved.push_back (s); },
        [] (const std::string &why) { ADD_FAILURE () << why; });
    SaveJob job;
    job.time = t;
    job.frame = SaveImage {SaveImage::Kind::GRAY8, 2, 2, {1, 2, 3, 4}};
    job.json = "{\"kind\":\"buffer\"}";
    ASSERT_TRUE (w.push (std::move (job)));
    w.wait_idle (10000);
    EXPECT_EQ (w.counts ().done, 1u);
  }
  ASSERT_EQ (saved.size (), 1u);
  EXPECT_EQ (saved[0].image, std::string (folder) + "/" + SaveWriter::set_name ("p", t, 1) + ".png");
  EXPECT_EQ (saved[0].heatmap, "") << "no heatmap in the job";
  std::ifstream earlier (taken + ".png");
  std::string content;
  std::getline (earlier, content);
  EXPECT_EQ (content, "an earlier set");
  std::ifstream json (saved[0].json);
  std::getline (json, content);
  EXPECT_EQ (content, "{\"kind\":\"buffer\",\"image\":\"" + SaveWriter::set_name ("p", t, 1) + ".png\"}");
  std::filesystem::remove_all (folder);
}
