// Operator control through the real binary and daemon: protocol rules (inv. 12), start-up
// refusals (inv. 7), one writer per state directory.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "e2e/e2e_support.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

// A copy of the VDAB protocol valid from `from` until `until`.
fs::path protocol_copy(const std::string& from, const std::string& until) {
  const fs::path dir = make_temp_dir("kbix-protocol");
  std::string text = read_file(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  text = std::regex_replace(text, std::regex("valid_from = [0-9-]+"), "valid_from = " + from);
  text = std::regex_replace(text, std::regex("valid_until = [0-9-]+"), "valid_until = " + until);
  std::ofstream(dir / "protocol.toml") << text;
  return dir / "protocol.toml";
}

std::vector<nlohmann::json> audit_entries(const ExchangeWorld& world, const std::string& event) {
  std::vector<nlohmann::json> found;
  for (const auto& file : files_under(world.state_dir() / "audit")) {
    for (const auto& line : read_lines(file)) {
      auto entry = nlohmann::json::parse(line, nullptr, false);
      if (!entry.is_discarded() && entry.is_object() && entry.value("event", "") == event) {
        found.push_back(entry);
      }
    }
  }
  return found;
}

TEST(RunStart, RefusedOutsideTheProtocolWindowUnlessForcedWithAReason) {
  ExchangeWorld world("e2e-window", protocol_copy("2099-01-01", "2100-01-01"));
  world.generate_extract(50, 4);
  Daemon daemon(world);

  const auto refused = world.kbix("run start");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("schedule.outside_window"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("--force --reason"), std::string::npos) << refused.output;

  const auto no_reason = world.kbix("run start --force");
  EXPECT_EQ(no_reason.exit_code, 1);
  EXPECT_NE(no_reason.output.find("run.reason_required"), std::string::npos) << no_reason.output;

  const std::string reason = "catch-up after the March outage, ticket 4711";
  const auto forced = world.kbix("run start --force --reason '" + reason + "'");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;

  const auto starts = audit_entries(world, "run.start_forced");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0]["details"]["reason"], reason);
  EXPECT_EQ(starts[0]["details"]["rule"], "schedule.outside_window");
  EXPECT_FALSE(starts[0]["actor"]["name"].get<std::string>().empty());
  EXPECT_EQ(audit_entries(world, "run.start_refused").size(), 2u);
  daemon.stop();
}

TEST(RunStart, AnEndedProtocolNeverRunsNotEvenForced) {
  ExchangeWorld world("e2e-ended", protocol_copy("2020-01-01", "2021-01-01"));
  world.generate_extract(50, 4);
  Daemon daemon(world);
  const auto forced = world.kbix("run start --force --reason 'one more, ticket 4712'");
  EXPECT_EQ(forced.exit_code, 1);
  EXPECT_NE(forced.output.find("schedule.protocol_ended"), std::string::npos) << forced.output;
  EXPECT_NE(forced.output.find("ended on 2021-01-01"), std::string::npos) << forced.output;
  EXPECT_TRUE(audit_entries(world, "run.start_forced").empty());
  const auto status = world.kbix("status");
  EXPECT_NE(status.output.find("ended"), std::string::npos) << status.output;
  daemon.stop();
}

TEST(RunStart, ASecondRunWaitsUntilTheFirstIsFinished) {
  ExchangeWorld world("e2e-busy");
  world.generate_extract(50, 4);
  Daemon daemon(world);
  ASSERT_EQ(world.kbix("run start").exit_code, 0);
  const auto second = world.kbix("run start");
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("run.busy"), std::string::npos) << second.output;

  const auto once = world.kbix("run once");
  EXPECT_EQ(once.exit_code, 1) << "one writer per state directory";
  EXPECT_NE(once.output.find("instance.locked"), std::string::npos) << once.output;
  daemon.stop();
}

TEST(Daemon, RefusesToStartWithAPrivateKeyReadableByOthers) {
  ExchangeWorld world("e2e-keymode");
  const fs::path key = world.dir() / "agii-sign.key";
  fs::copy_file(KBIX_ENVELOPE_TEST_KEYS "/agii-sign-rsa.key", key);
  fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                           fs::perms::others_read);
  std::string config = read_file(world.config_file());
  config = std::regex_replace(config, std::regex("signing_key = \"[^\"]*\""),
                              "signing_key = \"" + key.string() + "\"");
  std::ofstream(world.config_file()) << config;

  const auto refused = world.kbix("daemon");
  EXPECT_EQ(refused.exit_code, 78) << "EX_CONFIG: " << refused.output;
  EXPECT_NE(refused.output.find("security.key_file_mode"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find(key.string()), std::string::npos) << "names the file";
  EXPECT_NE(refused.output.find("644"), std::string::npos) << "names the mode";
  EXPECT_FALSE(fs::exists(world.socket()));
}

TEST(Status, WithoutADaemonSaysHowToGoOn) {
  ExchangeWorld world("e2e-nodaemon");
  const auto status = world.kbix("status");
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.output.find("control.unreachable"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("kbix run once"), std::string::npos) << status.output;
}

}  // namespace
}  // namespace kbix::test
