// Regions of a web found row by row: 8-connectivity, merging, one report per
// region when it ends, segments for endless regions.
#include "prn/stream/region_tracker.h"
#include "test_util.h"

using prn::stream::Region;
using prn::stream::RegionTracker;

namespace {

torch::Tensor rows_from(const std::vector<std::string> &art) {
  torch::Tensor t = torch::zeros({static_cast<int64_t>(art.size()), static_cast<int64_t>(art[0].size())});
  for (size_t r = 0; r < art.size(); ++r)
    for (size_t c = 0; c < art[r].size(); ++c)
      if (art[r][c] != '.')
        t[r][c] = (art[r][c] - '0') / 10.0f;
  return t;
}

} // namespace

TEST(StreamRegions, UShapeAndDiagonalAreOneRegionEachReportedWhenTheyEnd) {
  RegionTracker tr(0.5f, 1000);
  tr.add_rows(rows_from({
      "5...5....9",
      "5...5.....",
      "55555.....",
      "......7...",
      ".......7..",
      "..........",
  }));
  tr.finish();
  std::vector<Region> rs = tr.take_ended(1000);
  ASSERT_EQ(rs.size(), 3u);
  // Ended in order: the single pixel (row 0) ends at row 1, the U at row 3, the diagonal at row 5.
  EXPECT_EQ(rs[0].x, 9); EXPECT_EQ(rs[0].y, 0); EXPECT_EQ(rs[0].area, 1); EXPECT_FLOAT_EQ(rs[0].peak, 0.9f);
  EXPECT_EQ(rs[1].x, 0); EXPECT_EQ(rs[1].y, 0); EXPECT_EQ(rs[1].width, 5); EXPECT_EQ(rs[1].height, 3);
  EXPECT_EQ(rs[1].area, 9);
  EXPECT_EQ(rs[2].x, 6); EXPECT_EQ(rs[2].y, 3); EXPECT_EQ(rs[2].width, 2); EXPECT_EQ(rs[2].height, 2);
  EXPECT_EQ(rs[2].area, 2);
  EXPECT_FLOAT_EQ(rs[2].peak, 0.7f);
}

TEST(StreamRegions, ARegionSpanningCallsIsReportedOnceAfterItsLastRow) {
  RegionTracker tr(0.5f, 1000);
  tr.add_rows(rows_from({"......", "..66.."}));
  EXPECT_TRUE(tr.take_ended(100).empty());
  tr.add_rows(rows_from({"..6...", ".66..."}));
  EXPECT_TRUE(tr.take_ended(100).empty()) << "still open: its last row may continue";
  tr.add_rows(rows_from({"......"}));
  EXPECT_TRUE(tr.take_ended(3).empty()) << "ends at row 3, not before row 3";
  std::vector<Region> rs = tr.take_ended(4);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].x, 1); EXPECT_EQ(rs[0].y, 1); EXPECT_EQ(rs[0].width, 3); EXPECT_EQ(rs[0].height, 3);
  EXPECT_EQ(rs[0].area, 5);
  EXPECT_TRUE(tr.take_ended(100).empty()) << "reported once";
}

TEST(StreamRegions, TwoBranchesJoiningBelowMerge) {
  RegionTracker tr(0.5f, 1000);
  tr.add_rows(rows_from({"6.....6", "6.....6", "6666666", "......."}));
  std::vector<Region> rs = tr.take_ended(100);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].width, 7);
  EXPECT_EQ(rs[0].area, 11);
}

TEST(StreamRegions, EndlessStreakIsReportedInSegments) {
  RegionTracker tr(0.5f, 4);
  for (int i = 0; i < 10; ++i)
    tr.add_rows(rows_from({"..8.."}));
  std::vector<Region> rs = tr.take_ended(100);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].y, 0); EXPECT_EQ(rs[0].height, 4);
  EXPECT_EQ(rs[1].y, 4); EXPECT_EQ(rs[1].height, 4);
  tr.finish();
  rs = tr.take_ended(100);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].y, 8); EXPECT_EQ(rs[0].height, 2);
}

TEST(StreamRegions, ThresholdAndBadInput) {
  RegionTracker tr(0.65f, 10);
  tr.add_rows(rows_from({"6.7", "..."}));
  std::vector<Region> rs = tr.take_ended(100);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].x, 2);
  EXPECT_PRN_ERROR(tr.add_rows(torch::zeros({1, 4})), "width 3", "4");
  EXPECT_PRN_ERROR(RegionTracker(0.5f, 0), "max_rows");
}
