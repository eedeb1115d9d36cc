// Protocol rules (invariant 12): the validity window, the cadence with month ends, the schedule
// across years and the retention cutoff.
#include "kbix/runs/schedule.hpp"

#include <gtest/gtest.h>

namespace kbix {
namespace {

using namespace std::chrono;

Protocol protocol() {
  Protocol p;
  p.id = "test";
  p.valid_from = sys_days{2023y / March / 3};
  p.valid_until = sys_days{2028y / March / 3};
  p.cadence_months = 6;
  p.retention_years = 5;
  return p;
}

TEST(Schedule, WindowStartIsInclusiveAndEndExclusive) {
  const auto p = protocol();
  EXPECT_FALSE(check_run_allowed(p, std::nullopt, sys_days{2023y / March / 2}).allowed);
  EXPECT_TRUE(check_run_allowed(p, std::nullopt, sys_days{2023y / March / 3}).allowed);
  EXPECT_TRUE(check_run_allowed(p, std::nullopt, sys_days{2028y / March / 2}).allowed);
  const auto after = check_run_allowed(p, std::nullopt, sys_days{2028y / March / 3});
  EXPECT_FALSE(after.allowed);
  EXPECT_EQ(after.code, "schedule.protocol_ended");
  EXPECT_NE(after.explanation.find("2028-03-03"), std::string::npos);
  EXPECT_TRUE(protocol_ended(p, sys_days{2028y / March / 3}));
  EXPECT_FALSE(protocol_ended(p, sys_days{2028y / March / 2}));
  const auto before = check_run_allowed(p, std::nullopt, sys_days{2023y / March / 2});
  EXPECT_EQ(before.code, "schedule.outside_window");
}

TEST(Schedule, AnOpenEndedProtocolNeverEndsAndKeepsItsSchedule) {
  auto p = protocol();
  p.valid_until.reset();
  p.review_date = sys_days{2030y / January / 1};
  EXPECT_FALSE(protocol_ended(p, sys_days{2090y / January / 1}));
  EXPECT_TRUE(check_run_allowed(p, std::nullopt, sys_days{2040y / March / 3}).allowed);
  ScheduleConfig schedule;
  schedule.run_dates = {"03-15"};
  const auto next =
      next_scheduled_run(schedule, p, sys_days{2039y / March / 15},
                         std::chrono::system_clock::time_point{sys_days{2039y / May / 1}});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(std::chrono::floor<days>(*next), sys_days{2040y / March / 15});
}

TEST(Schedule, CadenceCountsCalendarMonthsClampedToMonthEnds) {
  const auto p = protocol();
  const sys_days last{2025y / March / 15};
  const auto early = check_run_allowed(p, last, sys_days{2025y / September / 14});
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.code, "schedule.too_soon");
  EXPECT_NE(early.explanation.find("2025-09-15"), std::string::npos);
  EXPECT_TRUE(check_run_allowed(p, last, sys_days{2025y / September / 15}).allowed);
  EXPECT_EQ(add_months(sys_days{2025y / August / 31}, 6), sys_days{2026y / February / 28});
  EXPECT_EQ(add_months(sys_days{2027y / August / 31}, 6), sys_days{2028y / February / 29});
  EXPECT_EQ(add_months(sys_days{2025y / December / 15}, 6), sys_days{2026y / June / 15});
  EXPECT_EQ(add_months(sys_days{2026y / March / 31}, -12 * 5), sys_days{2021y / March / 31});
}

TEST(Schedule, NextRunIsTheFirstAllowedConfiguredDate) {
  const auto p = protocol();
  ScheduleConfig schedule;
  schedule.run_dates = {"03-15", "09-15"};
  const auto now = sys_days{2026y / November / 22} + hours(10);
  auto next = next_scheduled_run(schedule, p, sys_days{2026y / September / 15}, now);
  ASSERT_TRUE(next);
  EXPECT_EQ(floor<days>(*next), sys_days{2027y / March / 15});
  // a forced run in January pushes the March date out by the cadence
  next = next_scheduled_run(schedule, p, sys_days{2027y / January / 10}, now);
  ASSERT_TRUE(next);
  EXPECT_EQ(floor<days>(*next), sys_days{2027y / September / 15});
  // the last date in the window is 2027-09-15 then 2028-03-15 is outside: nothing after
  EXPECT_FALSE(next_scheduled_run(schedule, p, sys_days{2027y / September / 15},
                                  sys_days{2027y / October / 1} + hours(0)));
  // today itself counts when it is a run date
  next = next_scheduled_run(schedule, p, std::nullopt, sys_days{2027y / March / 15} + hours(9));
  ASSERT_TRUE(next);
  EXPECT_EQ(floor<days>(*next), sys_days{2027y / March / 15});
}

TEST(Schedule, RetentionCutoffIsFiveYearsBack) {
  const auto p = protocol();
  const auto now = sys_days{2031y / June / 1} + hours(12);
  EXPECT_EQ(retention_cutoff(p, now), sys_days{2026y / June / 1} + hours(12));
}

}  // namespace
}  // namespace kbix
