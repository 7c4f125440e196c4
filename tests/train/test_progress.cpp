// The CLIs' progress line: the rate and ETA follow the recent speed.
#include "common/progress.h"
#include "common/rate_meter.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using prn::cli::Progress;
using prn::cli::RateMeter;

TEST(RateMeter, NoRateUntilTwoSamplesLieApart) {
  RateMeter m;
  EXPECT_EQ(m.rate(), 0.0);
  m.add(0.0, 0);
  EXPECT_EQ(m.rate(), 0.0);
  m.add(0.0, 3);
  EXPECT_EQ(m.rate(), 0.0);
  m.add(2.0, 4);
  EXPECT_DOUBLE_EQ(m.rate(), 2.0);
}

TEST(RateMeter, ASlowStartLeavesTheRateWithinTheWindow) {
  RateMeter m(60.0);
  m.add(0.0, 0);
  m.add(100.0, 1); // a first step of 100 s (warm-up)
  for (int i = 2; i <= 40; ++i)
    m.add(100.0 + 2.0 * (i - 1), i); // then 2 s a step
  EXPECT_DOUBLE_EQ(m.rate(), 0.5);    // the average would be 40 / 178 = 0.22
}

TEST(RateMeter, APauseWeighsOnOneSampleOnly) {
  RateMeter m(60.0);
  for (int i = 0; i <= 10; ++i)
    m.add(26.0 * i, i); // 26 s a step
  EXPECT_NEAR(m.rate(), 1.0 / 26, 1e-12);
  m.add(260.0 + 600.0 + 26.0, 11); // stopped for 10 minutes
  EXPECT_NEAR(m.rate(), 1.0 / 626, 1e-12);
  m.add(260.0 + 600.0 + 52.0, 12);
  EXPECT_NEAR(m.rate(), 1.0 / 26, 1e-12) << "the pause left the window";
}

TEST(RateMeter, KeepsAtMostMaxSamples) {
  RateMeter m(1e9, 4);
  m.add(0.0, 0);
  m.add(1.0, 100); // fast at first
  for (int i = 2; i <= 5; ++i)
    m.add(static_cast<double>(i), 100 + (i - 1)); // then 1 step/s
  EXPECT_DOUBLE_EQ(m.rate(), 1.0);               // only the last four samples count
}

TEST(Progress, LineShowsBarCountsRateAndTimes) {
  EXPECT_EQ(Progress::format_line("train", 6, 24, 0.5, "step", 12.0, 36.0, "loss 0.1"),
            "train [######..................] 6/24 0.50 step/s elapsed 00:12 eta 00:36 loss 0.1");
  EXPECT_EQ(Progress::format_line("eval", 0, 10, 0.0, "img", 0.0, -1, ""),
            "eval [........................] 0/10 0.00 img/s elapsed 00:00 eta --:-- ");
  EXPECT_EQ(Progress::format_duration(3 * 3600 + 61), "3:01:01");
}

} // namespace
