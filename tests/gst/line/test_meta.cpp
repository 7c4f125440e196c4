/* GstPrnAnomalyMeta: fields, copies, and what GStreamer's own elements (from
 * the system plugin folder) do with it: videoconvert keeps it, elements that
 * change the geometry drop it. */
#include "test_helpers.h"

#include <gtest/gtest.h>

using namespace prntest;

namespace {

GstPrnAnomalyMeta *
add_full_meta (GstBuffer *buffer)
{
  const auto heat = make_heatmap (4, 8, 0.1f, 1, 3, 2, 5, 0.9f);
  GstPrnAnomalyMeta *meta = add_meta (buffer, 0.5f, heat, 4, 8, 16.0f);
  const GstPrnRegion a = region (16, 2, 32, 3), b = region (0, -6, 8, 7);
  gst_prn_anomaly_meta_add_region (meta, &a);
  gst_prn_anomaly_meta_add_region (meta, &b);
  return meta;
}

void
expect_same_content (const GstPrnAnomalyMeta *m, const GstPrnAnomalyMeta *o)
{
  EXPECT_FLOAT_EQ (m->score, o->score);
  EXPECT_EQ (m->anomalous, o->anomalous);
  EXPECT_FLOAT_EQ (m->threshold, o->threshold);
  EXPECT_FLOAT_EQ (m->pixel_threshold, o->pixel_threshold);
  EXPECT_EQ (m->row_offset, o->row_offset);
  EXPECT_EQ (m->heatmap_width, o->heatmap_width);
  EXPECT_EQ (m->heatmap_height, o->heatmap_height);
  EXPECT_FLOAT_EQ (m->heatmap_scale_x, o->heatmap_scale_x);
  ASSERT_EQ (m->regions->len, o->regions->len);
  for (guint i = 0; i < m->regions->len; i++) {
    const auto &a = g_array_index (m->regions, GstPrnRegion, i);
    const auto &b = g_array_index (o->regions, GstPrnRegion, i);
    EXPECT_EQ (a.x, b.x);
    EXPECT_EQ (a.y, b.y);
    EXPECT_EQ (a.width, b.width);
    EXPECT_EQ (a.height, b.height);
    EXPECT_EQ (a.web_row, b.web_row);
    EXPECT_EQ (a.area, b.area);
    EXPECT_FLOAT_EQ (a.peak, b.peak);
  }
  EXPECT_STREQ (m->model_id, o->model_id);
}

}  // namespace

TEST (Meta, NewMetaIsEmpty)
{
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 16, nullptr);
  EXPECT_EQ (gst_buffer_get_prn_anomaly_meta (buffer), nullptr);
  GstPrnAnomalyMeta *meta = gst_buffer_add_prn_anomaly_meta (buffer);
  ASSERT_NE (meta, nullptr);

  EXPECT_EQ (gst_buffer_get_prn_anomaly_meta (buffer), meta);
  EXPECT_EQ (meta->heatmap, nullptr);
  EXPECT_EQ (gst_prn_anomaly_meta_get_heatmap (meta), nullptr);
  EXPECT_EQ (meta->heatmap_width, 0u);
  ASSERT_NE (meta->regions, nullptr);
  EXPECT_EQ (meta->regions->len, 0u);
  EXPECT_EQ (meta->model_id, nullptr);
  EXPECT_FALSE (meta->anomalous);
  EXPECT_TRUE (gst_meta_api_type_has_tag (GST_PRN_ANOMALY_META_API_TYPE,
          g_quark_from_static_string (GST_META_TAG_VIDEO_STR)));
  gst_buffer_unref (buffer);
}

TEST (Meta, FieldsHeatmapRegionsAndModelId)
{
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 16, nullptr);
  GstPrnAnomalyMeta *meta = add_full_meta (buffer);

  const GstPrnAnomalyMeta *got = gst_buffer_get_prn_anomaly_meta (buffer);
  ASSERT_EQ (got, meta);
  EXPECT_FLOAT_EQ (got->score, 0.9f);
  EXPECT_TRUE (got->anomalous);
  EXPECT_FLOAT_EQ (got->pixel_threshold, 0.5f);
  EXPECT_EQ (got->row_offset, 4096u);
  EXPECT_EQ (got->heatmap_width, 4u);
  EXPECT_EQ (got->heatmap_height, 8u);
  EXPECT_FLOAT_EQ (got->heatmap_scale_x, 16.0f);
  const gfloat *heat = gst_prn_anomaly_meta_get_heatmap (got);
  ASSERT_NE (heat, nullptr);
  EXPECT_FLOAT_EQ (heat[0], 0.1f);
  EXPECT_FLOAT_EQ (heat[2 * 4 + 1], 0.9f);
  EXPECT_FLOAT_EQ (heat[4 * 4 + 2], 0.9f);
  EXPECT_FLOAT_EQ (heat[5 * 4 + 2], 0.1f);
  ASSERT_EQ (got->regions->len, 2u);
  EXPECT_EQ (g_array_index (got->regions, GstPrnRegion, 1).y, -6);
  EXPECT_STREQ (got->model_id, "test-model");

  gst_prn_anomaly_meta_set_model_id (meta, "other");
  EXPECT_STREQ (got->model_id, "other");
  gst_buffer_unref (buffer);
}

TEST (Meta, HeatmapOfWrongSizeIsRefused)
{
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 16, nullptr);
  GstPrnAnomalyMeta *meta = gst_buffer_add_prn_anomaly_meta (buffer);
  const float values[3] = { 0.1f, 0.2f, 0.3f };
  {
    LogCounter log ("prnanomaly-meta");
    gst_prn_anomaly_meta_set_heatmap (meta, 2, 2, 1.0f, g_bytes_new (values, sizeof values));
    EXPECT_EQ (log.count (), 1);
  }
  EXPECT_EQ (meta->heatmap, nullptr);
  EXPECT_EQ (meta->heatmap_width, 0u);
  gst_buffer_unref (buffer);
}

TEST (Meta, ACopyOfPartOfTheBufferHasNoMeta)
{
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 16, nullptr);
  add_full_meta (buffer);
  GstBuffer *part = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_ALL, 0, 8);
  EXPECT_EQ (gst_buffer_get_prn_anomaly_meta (part), nullptr);
  GstBuffer *whole = gst_buffer_copy_region (buffer, GST_BUFFER_COPY_ALL, 0, 16);
  EXPECT_NE (gst_buffer_get_prn_anomaly_meta (whole), nullptr);
  gst_buffer_unref (part);
  gst_buffer_unref (whole);
  gst_buffer_unref (buffer);
}

TEST (Meta, CopySharesHeatmapAndCopiesRegions)
{
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 16, nullptr);
  const GstPrnAnomalyMeta *meta = add_full_meta (buffer);
  GstBuffer *copy = gst_buffer_copy (buffer);

  const GstPrnAnomalyMeta *c = gst_buffer_get_prn_anomaly_meta (copy);
  ASSERT_NE (c, nullptr);
  ASSERT_NE (c, meta);
  expect_same_content (meta, c);
  EXPECT_EQ (c->heatmap, meta->heatmap);        /* shared, not duplicated */
  EXPECT_NE (c->regions, meta->regions);
  EXPECT_NE (c->model_id, meta->model_id);

  gst_buffer_unref (buffer);    /* the copy owns what it holds */
  ASSERT_NE (gst_prn_anomaly_meta_get_heatmap (c), nullptr);
  EXPECT_FLOAT_EQ (gst_prn_anomaly_meta_get_heatmap (c)[2 * 4 + 1], 0.9f);
  EXPECT_EQ (g_array_index (c->regions, GstPrnRegion, 0).width, 32);
  EXPECT_STREQ (c->model_id, "test-model");
  gst_buffer_unref (copy);
}

/* The transform function itself: whole copies and same-size scales kept, others refused. */
TEST (Meta, TransformKeepsOnlyCopiesAndSameSizeScales)
{
  GstBuffer *buffer = gst_buffer_new_allocate (nullptr, 16, nullptr);
  GstPrnAnomalyMeta *meta = add_full_meta (buffer);
  const GstMetaInfo *info = GST_PRN_ANOMALY_META_INFO;
  GstVideoInfo in, same, smaller;
  gst_video_info_set_format (&in, GST_VIDEO_FORMAT_GRAY8, 64, 8);
  gst_video_info_set_format (&same, GST_VIDEO_FORMAT_RGB, 64, 8);
  gst_video_info_set_format (&smaller, GST_VIDEO_FORMAT_GRAY8, 32, 8);
  const GQuark scale = gst_video_meta_transform_scale_get_quark ();

  struct Case {
    GQuark type;
    gpointer data;
    bool kept;
  };
  GstMetaTransformCopy copy = { FALSE, 0, static_cast<gsize> (-1) };
  GstMetaTransformCopy part = { TRUE, 0, 8 };  /* a region of the buffer: its rows differ */
  GstVideoMetaTransform to_same = { &in, &same }, to_smaller = { &in, &smaller };
  for (const Case &k : { Case { g_quark_from_static_string ("gst-copy"), &copy, true },
          Case { g_quark_from_static_string ("gst-copy"), &part, false },
          Case { scale, &to_same, true }, Case { scale, &to_smaller, false },
          Case { g_quark_from_static_string ("prn-test-unknown"), nullptr, false } }) {
    SCOPED_TRACE (g_quark_to_string (k.type));
    GstBuffer *dest = gst_buffer_new ();
    EXPECT_EQ (static_cast<bool> (info->transform_func (dest, &meta->meta, buffer, k.type,
                k.data)), k.kept);
    EXPECT_EQ (gst_buffer_get_prn_anomaly_meta (dest) != nullptr, k.kept);
    gst_buffer_unref (dest);
  }
  gst_buffer_unref (buffer);
}

TEST (Meta, SurvivesVideoconvertGray8ToRgb)
{
  GstHarness *h = gst_harness_new_parse ("videoconvert");
  gst_harness_set_src_caps_str (h, video_caps ("GRAY8", 64, 8).c_str ());
  gst_harness_set_sink_caps_str (h, video_caps ("RGB", 64, 8).c_str ());

  GstBuffer *in = make_frame ("GRAY8", 64, 8, 77);
  const GstPrnAnomalyMeta *meta = add_full_meta (in);
  gst_buffer_ref (in);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);

  EXPECT_NE (out, in);
  EXPECT_EQ (gst_buffer_get_size (out), 64u * 8u * 3u);     /* really converted */
  const GstPrnAnomalyMeta *converted = gst_buffer_get_prn_anomaly_meta (out);
  ASSERT_NE (converted, nullptr) << "videoconvert dropped a video-tagged meta";
  expect_same_content (meta, converted);
  EXPECT_EQ (converted->heatmap, meta->heatmap);

  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* Elements that change the geometry must not pass on a heatmap of the old one. */
TEST (Meta, DroppedWhenTheGeometryChanges)
{
  struct Case {
    const char *launch, *out_caps;
  };
  for (const Case &k : { Case { "videoscale", "video/x-raw,format=GRAY8,width=32,height=4" },
          Case { "videoconvert ! videoscale", "video/x-raw,format=RGB,width=64,height=4" },
          Case { "videocrop left=8", "video/x-raw,format=GRAY8,width=56,height=8" },
          Case { "videobox top=-2", "video/x-raw,format=GRAY8,width=64,height=10" },
          Case { "videoflip video-direction=horiz", "video/x-raw,format=GRAY8,width=64,height=8" } }) {
    SCOPED_TRACE (k.launch);
    GstHarness *h = gst_harness_new_parse (k.launch);
    ASSERT_NE (h, nullptr);
    gst_harness_set_src_caps_str (h, video_caps ("GRAY8", 64, 8).c_str ());
    gst_harness_set_sink_caps_str (h, (std::string (k.out_caps) + ",framerate=0/1").c_str ());

    GstBuffer *in = make_frame ("GRAY8", 64, 8, 77);
    add_full_meta (in);
    GstBuffer *out = gst_harness_push_and_pull (h, in);
    ASSERT_NE (out, nullptr);
    EXPECT_EQ (gst_buffer_get_prn_anomaly_meta (out), nullptr)
        << "the output kept a heatmap of the input's geometry";
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

/* videoscale without a size change is pass-through: the meta stays. */
TEST (Meta, KeptByVideoscaleAtTheSameSize)
{
  GstHarness *h = gst_harness_new_parse ("videoscale");
  gst_harness_set_caps_str (h, video_caps ("GRAY8", 64, 8).c_str (),
      video_caps ("GRAY8", 64, 8).c_str ());
  GstBuffer *in = make_frame ("GRAY8", 64, 8, 77);
  add_full_meta (in);
  GstBuffer *out = gst_harness_push_and_pull (h, in);
  ASSERT_NE (out, nullptr);
  EXPECT_NE (gst_buffer_get_prn_anomaly_meta (out), nullptr);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
