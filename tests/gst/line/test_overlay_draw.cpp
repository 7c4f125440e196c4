/* prnoverlay: region boxes, contours, properties. */
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <functional>

using namespace prntest;

namespace {

constexpr int W = 32, H = 16;
constexpr guint8 GREY = 100;

/* Whether (x, y) lies on the 2-pixel outline inside [x0, x0+w) x [y0, y0+h). */
bool
on_outline (int x, int y, int x0, int y0, int w, int h)
{
  if (x < x0 || x >= x0 + w || y < y0 || y >= y0 + h)
    return false;
  return x < x0 + 2 || x >= x0 + w - 2 || y < y0 + 2 || y >= y0 + h - 2;
}

/* Pushes `in` through a BGRx prnoverlay set up by `configure`; expects `colour`
 * where `coloured (x, y)` and the untouched GREY everywhere else. */
void
expect_frame (GstBuffer *in, const std::function<void (GstElement *)> &configure,
    const std::function<bool (int, int)> &coloured, const Rgb &colour)
{
  GstHarness *h = overlay_harness ("BGRx", W, H);
  ASSERT_NE (h, nullptr) << "prnoverlay not found on GST_PLUGIN_PATH";
  configure (h->element);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);
  const auto px = read_rgb (out, "BGRx", W, H);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const Rgb want = coloured (x, y) ? colour : Rgb { GREY, GREY, GREY };
      EXPECT_EQ (px[y * W + x], want) << "pixel (" << x << "," << y << ")";
    }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

}  // namespace

TEST (Overlay, BoxesAtRegionCoordinatesClipped)
{
  GstBuffer *in = make_frame ("BGRx", W, H, GREY);
  GstPrnAnomalyMeta *meta = add_meta (in, 0.5f, {}, 0, 0, 1.0f);
  /* Inside the frame; began 4 rows before this buffer; past the right edge. */
  const GstPrnRegion regions[] = { region (3, 5, 10, 7), region (18, -4, 6, 8),
    region (28, 10, 9, 3) };
  for (const auto &r : regions)
    gst_prn_anomaly_meta_add_region (meta, &r);

  expect_frame (in, [] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "draw", "boxes");
      }, [] (int x, int y) {
        return on_outline (x, y, 3, 5, 10, 7) || on_outline (x, y, 18, -4, 6, 8) ||
            on_outline (x, y, 28, 10, 9, 3);
      }, { 255, 0, 0 });
}

TEST (Overlay, NegativeYRegionShowsSidesAndBottomOnly)
{
  GstBuffer *in = make_frame ("BGRx", W, H, GREY);
  GstPrnAnomalyMeta *meta = add_meta (in, 0.5f, {}, 0, 0, 1.0f);
  const GstPrnRegion r = region (18, -4, 6, 8);        /* rows -4 .. 3 */
  gst_prn_anomaly_meta_add_region (meta, &r);

  expect_frame (in, [] (GstElement *e) {
        g_object_set (e, "box-color", 0xff00ff00u, NULL);
      }, [] (int x, int y) {
        const bool side = (x == 18 || x == 19 || x == 22 || x == 23) && y >= 0 && y < 4;
        const bool bottom = x >= 18 && x < 24 && (y == 2 || y == 3);
        return side || bottom;  /* the top edge (rows -4, -3) is not visible */
      }, { 0, 255, 0 });
}

TEST (Overlay, ContoursOutlineTheThresholdMask)
{
  GstBuffer *in = make_frame ("BGRx", W, H, GREY);
  /* Cells 4 px wide: mask pixels x in [8, 16), y in [4, 8); 0.3 elsewhere is
   * under pixel_threshold 0.5 (and heatmap drawing is off). */
  add_meta (in, 0.5f, make_heatmap (8, H, 0.3f, 2, 4, 4, 8, 0.6f), 8, H, 4.0f);

  expect_frame (in, [] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "draw", "contours");
        g_object_set (e, "box-color", 0xff0000ffu, NULL);
      }, [] (int x, int y) {
        const bool inside = x >= 8 && x < 16 && y >= 4 && y < 8;
        return inside && (x == 8 || x == 15 || y == 4 || y == 7);
      }, { 0, 0, 255 });
}

TEST (Overlay, ContoursStopAtTheFrameEdge)
{
  GstBuffer *in = make_frame ("BGRx", W, H, GREY);
  /* The mask covers the first 8 columns of every row: only x == 7 is an edge. */
  add_meta (in, 0.5f, make_heatmap (8, H, 0.0f, 0, 2, 0, H, 0.9f), 8, H, 4.0f);

  expect_frame (in, [] (GstElement *e) {
        gst_util_set_object_arg (G_OBJECT (e), "draw", "contours");
      }, [] (int x, int) {
        return x == 7;
      }, { 255, 0, 0 });
}

TEST (Overlay, TranslucentBoxColourBlends)
{
  GstBuffer *in = make_frame ("BGRx", W, H, GREY);
  GstPrnAnomalyMeta *meta = add_meta (in, 0.5f, {}, 0, 0, 1.0f);
  const GstPrnRegion r = region (0, 0, W, H);
  gst_prn_anomaly_meta_add_region (meta, &r);

  /* 0x80 opacity: 129/256 of white over grey 100: 100 + 155 * 129 / 256 = 178. */
  expect_frame (in, [] (GstElement *e) {
        g_object_set (e, "box-color", 0x80ffffffu, NULL);
      }, [] (int x, int y) {
        return on_outline (x, y, 0, 0, W, H);
      }, { 178, 178, 178 });
}

TEST (Overlay, PropertyDefaults)
{
  GstElement *e = gst_element_factory_make ("prnoverlay", nullptr);
  ASSERT_NE (e, nullptr) << "prnoverlay not found on GST_PLUGIN_PATH";
  guint draw = 0, box = 0;
  gdouble alpha = 0, min_score = 0;
  gint colormap = -1;
  gboolean qos = TRUE;
  g_object_get (e, "draw", &draw, "alpha", &alpha, "colormap", &colormap,
      "min-score", &min_score, "box-color", &box, "qos", &qos, NULL);
  EXPECT_DOUBLE_EQ (alpha, 0.5);
  EXPECT_EQ (colormap, 0);      /* jet */
  EXPECT_DOUBLE_EQ (min_score, -1.0);
  EXPECT_EQ (box, 0xffff0000u);
  EXPECT_FALSE (qos) << "QoS would drop frames on a slow model";

  GValue flags = G_VALUE_INIT;
  g_value_init (&flags, g_object_class_find_property (G_OBJECT_GET_CLASS (e), "draw")->value_type);
  ASSERT_TRUE (gst_value_deserialize (&flags, "heatmap+boxes"));
  EXPECT_EQ (g_value_get_flags (&flags), draw);
  g_value_unset (&flags);
  gst_object_unref (e);
}

TEST (Overlay, OutOfRangeValuesRejected)
{
  GstElement *e = gst_element_factory_make ("prnoverlay", nullptr);
  ASSERT_NE (e, nullptr) << "prnoverlay not found on GST_PLUGIN_PATH";
  GObjectClass *klass = G_OBJECT_GET_CLASS (e);

  for (const char *name : { "alpha", "min-score" }) {
    SCOPED_TRACE (name);
    GParamSpec *pspec = g_object_class_find_property (klass, name);
    ASSERT_NE (pspec, nullptr);
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, 1.5);
    EXPECT_TRUE (g_param_value_validate (pspec, &v)) << "1.5 accepted as is";
    g_value_set_double (&v, -2.0);
    EXPECT_TRUE (g_param_value_validate (pspec, &v)) << "-2 accepted as is";
    g_value_unset (&v);
  }

  {
    LogCounter log ("GLib-GObject");
    g_object_set (e, "alpha", 1.5, NULL);
    EXPECT_EQ (log.count (), 1) << "no warning for alpha 1.5";
  }
  gdouble alpha = 0;
  g_object_get (e, "alpha", &alpha, NULL);
  EXPECT_DOUBLE_EQ (alpha, 0.5) << "out-of-range alpha was stored";

  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_PARAM_SPEC (g_object_class_find_property (klass, "colormap"))->value_type);
  EXPECT_FALSE (gst_value_deserialize (&v, "rainbow"));
  EXPECT_TRUE (gst_value_deserialize (&v, "turbo"));
  g_value_unset (&v);
  gst_object_unref (e);
}
