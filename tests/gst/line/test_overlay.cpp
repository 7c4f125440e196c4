/* prnoverlay: formats, the heatmap, pass-through of buffers without a meta. */
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace prntest;

namespace {

constexpr int W = 32, H = 16;
constexpr guint8 GREY = 100;

/* Jet at score 1.0 is (0.5, 0, 0): 128, 0, 0. */
constexpr Rgb JET_HOT = { 128, 0, 0 };

/* Heatmap of 8 x H cells, 4 pixels per cell: score 1.0 on cells [2, 4) x [4, 8),
 * i.e. pixels x in [8, 16), y in [4, 8); `background` elsewhere. */
GstBuffer *
hot_rect_frame (const char *format, float background = 0.0f, float hot = 1.0f)
{
  GstBuffer *buffer = make_frame (format, W, H, GREY);
  add_meta (buffer, 0.5f, make_heatmap (8, H, background, 2, 4, 4, 8, hot), 8, H, 4.0f);
  return buffer;
}

bool
in_hot_rect (int x, int y)
{
  return x >= 8 && x < 16 && y >= 4 && y < 8;
}

/* Expected channel after blending `colour` over GREY with weight w (0..1). */
int
blended (int colour, double w)
{
  return static_cast<int> (GREY + (colour - GREY) * w + 0.5);
}

void
expect_near (const Rgb &got, const Rgb &want, int tol, int x, int y)
{
  for (int c = 0; c < 3; c++)
    EXPECT_LE (std::abs (got[c] - want[c]), tol)
        << "pixel (" << x << "," << y << ") channel " << c << ": " << got[c] << " want " << want[c];
}

GstHarness *
overlay_or_fail (const char *format)
{
  GstHarness *h = overlay_harness (format, W, H);
  EXPECT_NE (h, nullptr) << "prnoverlay not found on GST_PLUGIN_PATH";
  return h;
}

}  // namespace

TEST (Overlay, EveryFormatNegotiatesAndPaintsTheRightChannels)
{
  for (const char *format : { "RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA",
          "ARGB", "ABGR" }) {
    SCOPED_TRACE (format);
    GstHarness *h = overlay_or_fail (format);
    ASSERT_NE (h, nullptr);
    g_object_set (h->element, "alpha", 1.0, NULL);

    GstBuffer *out = gst_harness_push_and_pull (h, hot_rect_frame (format));
    ASSERT_NE (out, nullptr);
    GstCaps *caps = gst_pad_get_current_caps (h->srcpad);
    ASSERT_NE (caps, nullptr);
    EXPECT_STREQ (gst_structure_get_string (gst_caps_get_structure (caps, 0), "format"), format);
    gst_caps_unref (caps);

    const auto px = read_rgb (out, format, W, H);
    ASSERT_EQ (px.size (), static_cast<size_t> (W * H));
    expect_near (px[5 * W + 10], JET_HOT, 1, 10, 5);
    expect_near (px[1 * W + 1], { GREY, GREY, GREY }, 0, 1, 1);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

TEST (Overlay, HotRectangleColouredAndRestUnchanged)
{
  GstHarness *h = overlay_or_fail ("BGRx");
  ASSERT_NE (h, nullptr);
  GstBuffer *out = gst_harness_push_and_pull (h, hot_rect_frame ("BGRx"));
  ASSERT_NE (out, nullptr);

  /* Default alpha 0.5 at score 1.0: half grey, half jet's hot colour. */
  const Rgb want = { blended (JET_HOT[0], 0.5), blended (JET_HOT[1], 0.5),
    blended (JET_HOT[2], 0.5) };
  const auto px = read_rgb (out, "BGRx", W, H);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      expect_near (px[y * W + x], in_hot_rect (x, y) ? want : Rgb { GREY, GREY, GREY },
          in_hot_rect (x, y) ? 1 : 0, x, y);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

TEST (Overlay, FaintScoresFaintAndBelowMinimumUntouched)
{
  GstHarness *h = overlay_or_fail ("RGB");
  ASSERT_NE (h, nullptr);
  /* pixel_threshold 0.5: min-score -1 means 0.25. Background 0.2 is below it,
   * the rectangle's 0.4 is t = 0.15 / 0.75 = 0.2 of the way to full. */
  GstBuffer *out = gst_harness_push_and_pull (h, hot_rect_frame ("RGB", 0.2f, 0.4f));
  ASSERT_NE (out, nullptr);
  const auto px = read_rgb (out, "RGB", W, H);

  const Rgb faint = px[5 * W + 10];
  const int change = std::abs (faint[0] - GREY) + std::abs (faint[1] - GREY) +
      std::abs (faint[2] - GREY);
  EXPECT_GT (change, 0) << "a score above min-score left no trace";
  /* Opacity 0.5 * 0.2 = 0.1: no channel moves by more than a tenth of 255. */
  for (int c = 0; c < 3; c++)
    EXPECT_LE (std::abs (faint[c] - GREY), 26);
  expect_near (px[0], { GREY, GREY, GREY }, 0, 0, 0);
  gst_buffer_unref (out);

  /* An explicit min-score above the rectangle's score hides it. */
  g_object_set (h->element, "min-score", 0.45, NULL);
  GstBuffer *in = hot_rect_frame ("RGB", 0.2f, 0.4f);
  gst_buffer_ref (in);
  out = gst_harness_push_and_pull (h, in);
  EXPECT_TRUE (same_bytes (in, out));
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

TEST (Overlay, HeatmapRowsScaledWhenHeightDiffers)
{
  GstHarness *h = overlay_or_fail ("RGBx");
  ASSERT_NE (h, nullptr);
  g_object_set (h->element, "alpha", 1.0, NULL);
  /* 4 heatmap rows for 16 buffer rows: heatmap row 1 covers rows 4..7. */
  GstBuffer *in = make_frame ("RGBx", W, H, GREY);
  add_meta (in, 0.5f, make_heatmap (8, 4, 0.0f, 0, 8, 1, 2, 1.0f), 8, 4, 4.0f);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);
  const auto px = read_rgb (out, "RGBx", W, H);
  for (int y = 0; y < H; y++)
    expect_near (px[y * W + 3], (y >= 4 && y < 8) ? JET_HOT : Rgb { GREY, GREY, GREY }, 1, 3, y);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

TEST (Overlay, ColormapsGiveTheirHotColour)
{
  struct Case {
    const char *name;
    Rgb lo, hi;                 /* inclusive bounds of the colour at score 1.0 */
  };
  for (const Case &k : { Case { "jet", { 127, 0, 0 }, { 129, 0, 0 } },
          Case { "inferno", { 240, 245, 150 }, { 255, 255, 175 } },
          Case { "turbo", { 115, 0, 0 }, { 160, 30, 10 } } }) {
    SCOPED_TRACE (k.name);
    GstHarness *h = overlay_or_fail ("RGB");
    ASSERT_NE (h, nullptr);
    gst_util_set_object_arg (G_OBJECT (h->element), "colormap", k.name);
    g_object_set (h->element, "alpha", 1.0, NULL);
    GstBuffer *out = gst_harness_push_and_pull (h, hot_rect_frame ("RGB"));
    ASSERT_NE (out, nullptr);
    const Rgb hot = read_rgb (out, "RGB", W, H)[6 * W + 12];
    for (int c = 0; c < 3; c++) {
      EXPECT_GE (hot[c], k.lo[c]) << "channel " << c;
      EXPECT_LE (hot[c], k.hi[c]) << "channel " << c;
    }
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

TEST (Overlay, AlphaZeroHidesHeatmap)
{
  GstHarness *h = overlay_or_fail ("BGRA");
  ASSERT_NE (h, nullptr);
  g_object_set (h->element, "alpha", 0.0, NULL);
  GstBuffer *in = hot_rect_frame ("BGRA");
  gst_buffer_ref (in);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);
  EXPECT_TRUE (same_bytes (in, out));
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

TEST (Overlay, BufferWithoutMetaPassesUncopied)
{
  GstHarness *h = overlay_or_fail ("xRGB");
  ASSERT_NE (h, nullptr);
  GstBuffer *in = make_frame ("xRGB", W, H, GREY);
  GstBuffer *reference = gst_buffer_copy_deep (in);
  gst_buffer_ref (in);          /* not writable: drawing would need a copy */
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);
  EXPECT_EQ (out, in);
  EXPECT_TRUE (same_bytes (reference, out));
  gst_buffer_unref (out);
  gst_buffer_unref (in);

  /* The next buffer, with a meta, is drawn again. */
  out = gst_harness_push_and_pull (h, hot_rect_frame ("xRGB"));
  ASSERT_NE (out, nullptr);
  EXPECT_FALSE (same_bytes (reference, out));
  gst_buffer_unref (out);
  gst_buffer_unref (reference);
  gst_harness_teardown (h);
}

TEST (Overlay, Gray8CameraThroughVideoconvert)
{
  GstHarness *h = gst_harness_new_parse ("videoconvert ! prnoverlay alpha=1.0");
  ASSERT_NE (h, nullptr);
  gst_harness_set_src_caps_str (h, video_caps ("GRAY8", W, H).c_str ());
  gst_harness_set_sink_caps_str (h, video_caps ("RGB", W, H).c_str ());
  GstBuffer *in = make_frame ("GRAY8", W, H, GREY);
  add_meta (in, 0.5f, make_heatmap (8, H, 0.0f, 2, 4, 4, 8, 1.0f), 8, H, 4.0f);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);
  const auto px = read_rgb (out, "RGB", W, H);
  expect_near (px[5 * W + 10], JET_HOT, 1, 10, 5);
  EXPECT_EQ (px[0][0], px[0][1]);  /* outside: still grey */
  EXPECT_EQ (px[0][1], px[0][2]);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
