// Remote names are untrusted; a file is picked up only when its name, size and age say ready.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "kbix/sftp/sftp_readiness.hpp"
#include "sftp_test_support.hpp"

namespace kbix::test {
namespace {

ReadinessTracker return_tracker(std::chrono::seconds min_age) {
  auto made = ReadinessTracker::from_pattern(kReturnPattern, min_age);
  if (!made) throw std::runtime_error(made.error().describe());
  return std::move(made).value();
}

TEST(SftpListing, HostileNamesCreatedOnTheServerAreRejected) {
  SshdServer server;
  const auto dir = server.sftp_root() / "van-vdab";
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"...", "sftp.name_dots"},
      {"..\\..\\etc", "sftp.name_bad_char"},
      {"line\nbreak.p7m", "sftp.name_bad_char"},
      {std::string("bell\x07") + ".p7m", "sftp.name_bad_char"},
      {"esc\x1b[31m.p7m", "sftp.name_bad_char"},
      {"caf\xc3\xa9.p7m", "sftp.name_bad_char"},
      {std::string(200, 'x'), "sftp.name_too_long"},
      {"-rf", "sftp.name_leading_dash"},
  };
  for (const auto& [name, code] : hostile) write_random_file(dir / name, 10, 1);
  write_random_file(dir / kReturnName, 10, 1);
  std::filesystem::create_directory(dir / "sub");

  auto client = connect_or_die(server.client_settings());
  auto listing = client.list("van-vdab");
  ASSERT_TRUE(listing) << listing.error().describe();
  ASSERT_EQ(listing->entries.size(), 2u);
  EXPECT_EQ(listing->entries[0].name, "sub");
  EXPECT_FALSE(listing->entries[0].is_regular_file);
  EXPECT_EQ(listing->entries[1].name, kReturnName);
  ASSERT_EQ(listing->rejected.size(), hostile.size());
  std::multiset<std::string> expected_codes;
  std::multiset<std::string> codes;
  for (const auto& [name, code] : hostile) expected_codes.insert(code);
  for (const auto& rejected : listing->rejected) {
    codes.insert(rejected.code);
    for (const char c : rejected.escaped_name) EXPECT_TRUE(c > 0x20 && c < 0x7f);
  }
  EXPECT_EQ(codes, expected_codes);
}

TEST(SftpListing, FileStillBeingWrittenIsNotPickedUp) {
  SshdServer server;
  const auto file = server.remote_file("van-vdab", kReturnName);
  write_random_file(file, 1000, 1);
  auto client = connect_or_die(server.client_settings());
  auto tracker = return_tracker(std::chrono::seconds(0));
  auto observe = [&] {
    auto listing = client.list("van-vdab");
    EXPECT_TRUE(listing) << listing.error().describe();
    return listing ? tracker.observe(listing->entries, std::chrono::system_clock::now())
                   : std::vector<RemoteEntry>{};
  };
  EXPECT_TRUE(observe().empty());  // first sight
  for (int growth = 0; growth < 3; ++growth) {
    std::ofstream(file, std::ios::app | std::ios::binary) << std::string(500, 'z');
    EXPECT_TRUE(observe().empty()) << "picked up while growing, step " << growth;
  }
  const auto ready = observe();  // unchanged since the last poll
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].name, kReturnName);
  EXPECT_EQ(ready[0].size, 2500u);
}

TEST(SftpListing, TemporaryUploadsAndYoungFilesAreNotPickedUp) {
  SshdServer server;
  const auto dir = server.sftp_root() / "van-vdab";
  write_random_file(dir / ("." + kReturnName + ".part-0f0f"), 10, 1);
  write_random_file(dir / kReturnName, 10, 1);
  auto client = connect_or_die(server.client_settings());
  auto young = return_tracker(std::chrono::hours(1));
  auto ready = find_ready_files(client, "van-vdab", young, std::chrono::milliseconds(50));
  ASSERT_TRUE(ready) << ready.error().describe();
  EXPECT_TRUE(ready->empty());

  // Age the file on the server: now old enough, and only the final name is ready.
  std::filesystem::last_write_time(
      dir / kReturnName, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  auto aged = return_tracker(std::chrono::hours(1));
  ready = find_ready_files(client, "van-vdab", aged, std::chrono::milliseconds(50));
  ASSERT_TRUE(ready) << ready.error().describe();
  ASSERT_EQ(ready->size(), 1u);
  EXPECT_EQ((*ready)[0].name, kReturnName);
}

TEST(SftpListing, MissingDirectoryIsNotFound) {
  SshdServer server;
  auto client = connect_or_die(server.client_settings());
  auto listing = client.list("no-such-dir");
  ASSERT_FALSE(listing);
  EXPECT_EQ(listing.error().code, "sftp.not_found");
}

}  // namespace
}  // namespace kbix::test
