// Learning-rate schedules (prn::scheduled_lr, prn::set_lr).
#include "prn/lr_schedule.h"
#include "test_util.h"

TEST(LrSchedule, ConstantKeepsTheRateAndCosineDecaysItToZero) {
  EXPECT_DOUBLE_EQ(prn::scheduled_lr(prn::LrSchedule::Constant, 1e-3, 0, 100), 1e-3);
  EXPECT_DOUBLE_EQ(prn::scheduled_lr(prn::LrSchedule::Constant, 1e-3, 99, 100), 1e-3);
  EXPECT_DOUBLE_EQ(prn::scheduled_lr(prn::LrSchedule::Cosine, 1e-3, 0, 100), 1e-3);
  EXPECT_NEAR(prn::scheduled_lr(prn::LrSchedule::Cosine, 1e-3, 50, 100), 0.5e-3, 1e-15);
  EXPECT_NEAR(prn::scheduled_lr(prn::LrSchedule::Cosine, 1e-3, 99, 100), 1e-3 * (1 + std::cos(M_PI * 0.99)) / 2,
              1e-15);
  EXPECT_LT(prn::scheduled_lr(prn::LrSchedule::Cosine, 1e-3, 99, 100), 1e-6);
  double previous = 1;
  for (int64_t s = 0; s < 100; ++s) { // strictly decreasing
    const double lr = prn::scheduled_lr(prn::LrSchedule::Cosine, 1e-3, s, 100);
    EXPECT_LT(lr, previous) << "step " << s;
    previous = lr;
  }
  EXPECT_PRN_ERROR(prn::scheduled_lr(prn::LrSchedule::Cosine, 1e-3, 100, 100), "expected 0 <= step < total",
                   "step 100 of 100");
  EXPECT_EQ(prn::lr_schedule_from_name("cosine"), prn::LrSchedule::Cosine);
  EXPECT_EQ(prn::lr_schedule_name(prn::LrSchedule::Constant), "constant");
  EXPECT_PRN_ERROR(prn::lr_schedule_from_name("linear"), "'linear': expected constant or cosine");
}

TEST(LrSchedule, SetLrChangesEveryParameterGroup) {
  auto a = torch::zeros({2}, torch::requires_grad()), b = torch::zeros({3}, torch::requires_grad());
  torch::optim::AdamW optimizer(std::vector<torch::optim::OptimizerParamGroup>{
                                    torch::optim::OptimizerParamGroup({a}), torch::optim::OptimizerParamGroup({b})},
                                torch::optim::AdamWOptions(1e-3));
  prn::set_lr(optimizer, 2.5e-4);
  ASSERT_EQ(optimizer.param_groups().size(), 2u);
  for (auto &g : optimizer.param_groups())
    EXPECT_DOUBLE_EQ(g.options().get_lr(), 2.5e-4);
}
