#include <gtest/gtest.h>

#include <stdexcept>

#include "kbix/sftp/sftp_readiness.hpp"

namespace kbix {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

const Clock::time_point kT0 = Clock::time_point(seconds(1'800'000'000));

RemoteEntry file(std::string name, std::uint64_t size, Clock::time_point modified = kT0) {
  return RemoteEntry{std::move(name), size, modified, true};
}

ReadinessTracker tracker(seconds min_age = seconds(60)) {
  auto made =
      ReadinessTracker::from_pattern(R"(p_\d{8}T\d{6}Z-[0-9a-f]{4}-verrijkt\.csv\.p7m)", min_age);
  if (!made) throw std::runtime_error(made.error().describe());
  return std::move(made).value();
}

const std::string kGood = "p_20260101T120000Z-a1b2-verrijkt.csv.p7m";

TEST(Readiness, NeedsTwoEqualObservations) {
  auto ready = tracker();
  EXPECT_TRUE(ready.observe({file(kGood, 10)}, kT0 + seconds(120)).empty());
  const auto second = ready.observe({file(kGood, 10)}, kT0 + seconds(125));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].name, kGood);
}

TEST(Readiness, GrowingFileIsNotReady) {
  auto ready = tracker();
  EXPECT_TRUE(ready.observe({file(kGood, 10)}, kT0 + seconds(120)).empty());
  EXPECT_TRUE(ready.observe({file(kGood, 20)}, kT0 + seconds(125)).empty());
  EXPECT_TRUE(ready.observe({file(kGood, 20, kT0 + seconds(1))}, kT0 + seconds(130)).empty());
  EXPECT_EQ(ready.observe({file(kGood, 20, kT0 + seconds(1))}, kT0 + seconds(135)).size(), 1u);
}

TEST(Readiness, YoungFileIsNotReady) {
  auto ready = tracker(seconds(60));
  EXPECT_TRUE(ready.observe({file(kGood, 10)}, kT0 + seconds(10)).empty());
  EXPECT_TRUE(ready.observe({file(kGood, 10)}, kT0 + seconds(59)).empty());
  EXPECT_EQ(ready.observe({file(kGood, 10)}, kT0 + seconds(60)).size(), 1u);
}

TEST(Readiness, OnlyFullPatternMatchesOfRegularFiles) {
  auto ready = tracker(seconds(0));
  RemoteEntry directory = file(kGood, 10);
  directory.is_regular_file = false;
  const std::vector<RemoteEntry> listing = {file("." + kGood + ".part-0a0b", 10),
                                            file(kGood + ".bak", 10), file("x" + kGood, 10)};
  ready.observe(listing, kT0);
  EXPECT_TRUE(ready.observe(listing, kT0).empty());
  ready.observe({directory}, kT0);
  EXPECT_TRUE(ready.observe({directory}, kT0).empty());
}

TEST(Readiness, DisappearingFileStartsOver) {
  auto ready = tracker(seconds(0));
  ready.observe({file(kGood, 10)}, kT0);
  ready.observe({}, kT0);
  EXPECT_TRUE(ready.observe({file(kGood, 10)}, kT0).empty());
}

}  // namespace
}  // namespace kbix

namespace kbix {
namespace {

TEST(Readiness, InvalidPatternIsAnError) {
  auto made = ReadinessTracker::from_pattern("p_(unclosed", std::chrono::seconds(0));
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, "sftp.bad_pattern");
}

TEST(Readiness, AcceptsAPredicate) {
  ReadinessTracker ready([](const std::string& name) { return name == "only-this"; },
                         std::chrono::seconds(0));
  const std::vector<RemoteEntry> listing = {RemoteEntry{"only-this", 1, kT0, true},
                                            RemoteEntry{"other", 1, kT0, true}};
  ready.observe(listing, kT0);
  const auto second = ready.observe(listing, kT0);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].name, "only-this");
}

}  // namespace
}  // namespace kbix
