// The one UTC time helper: every timestamp kbix writes comes from these three functions.
#include "kbix/core/utc_time.hpp"

#include <gtest/gtest.h>

namespace kbix {
namespace {

using namespace std::chrono;

// 2026-02-28T23:59:58.042Z: the last day of a non-leap February, milliseconds that need padding.
const system_clock::time_point kWhen =
    sys_days{year{2026} / February / 28} + hours{23} + minutes{59} + seconds{58} + milliseconds{42};

TEST(UtcTime, TimestampIsIso8601WithWholeSecondsAndZ) {
  EXPECT_EQ(utc_timestamp(kWhen), "2026-02-28T23:59:58Z");
  EXPECT_EQ(utc_timestamp(sys_days{year{1970} / January / 1}), "1970-01-01T00:00:00Z");
}

TEST(UtcTime, MillisecondsArePaddedToThreeDigits) {
  EXPECT_EQ(utc_timestamp_millis(kWhen), "2026-02-28T23:59:58.042Z");
  EXPECT_EQ(utc_timestamp_millis(kWhen + milliseconds{1958}), "2026-03-01T00:00:00.000Z")
      << "rolls over into March, not a 29th of February";
}

TEST(UtcTime, EveryOtherShapeIsUtcInEnglish) {
  EXPECT_EQ(utc_formatted(kWhen, UtcShape::date), "2026-02-28");
  EXPECT_EQ(utc_formatted(kWhen, UtcShape::compact), "20260228T235958Z");
  EXPECT_EQ(utc_formatted(kWhen, UtcShape::readable), "2026-02-28 23:59:58Z");
  EXPECT_EQ(utc_formatted(kWhen, UtcShape::rfc5322), "Sat, 28 Feb 2026 23:59:58 +0000");
}

}  // namespace
}  // namespace kbix
