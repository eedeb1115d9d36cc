// The [sftp] section fills the sftp module's own settings (kbix/sftp/sftp_settings.hpp) and the
// exchange's directories and quarantine caps: every key, and every default when a key is absent.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "kbix/config/config.hpp"
#include "kbix/sftp/sftp_settings.hpp"
#include "support/shipped_config.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class SftpSectionTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }

  // The shipped configuration with its [sftp] section replaced by `section`.
  kbix::Config load_with(const std::string& section) {
    auto shipped = kbix::test::shipped_config();
    shipped.exchange = shipped.exchange.substr(0, shipped.exchange.find("[sftp]")) + section;
    auto config = kbix::load_config(shipped.write(dir_));
    EXPECT_TRUE(config) << config.error().describe();
    return config ? *config : kbix::Config{};
  }

  const fs::path dir_ = kbix::test::make_temp_dir("kbix-sftp-section");
};

TEST_F(SftpSectionTest, EveryKeyFillsItsSetting) {
  const auto config = load_with(
      "[sftp]\nhost = \"sftp.partner.example\"\nport = 2222\nuser = \"agii\"\n"
      "identity_file = \"keys/id\"\nknown_hosts_file = \"keys/known_hosts\"\n"
      "outbound_dir = \"naar\"\nreturn_dir = \"van\"\nconnect_timeout_seconds = 7\n"
      "operation_deadline_seconds = 99\nkeepalive_seconds = 11\npoll_interval_seconds = 13\n"
      "min_file_age_seconds = 123\nmax_download_bytes = 4096\nquarantine_max_files = 5\n"
      "quarantine_max_bytes = 6000\nquarantine_max_age_days = 8\n");
  const kbix::SftpSettings& connection = config.sftp.connection;
  EXPECT_EQ(connection.host, "sftp.partner.example");
  EXPECT_EQ(connection.port, 2222);
  EXPECT_EQ(connection.user, "agii");
  EXPECT_EQ(connection.identity_file, dir_ / "keys/id");
  EXPECT_EQ(connection.known_hosts_file, dir_ / "keys/known_hosts");
  EXPECT_EQ(connection.connect_timeout, seconds(7));
  EXPECT_EQ(connection.operation_deadline, seconds(99));
  EXPECT_EQ(connection.keepalive_interval, seconds(11));
  EXPECT_EQ(connection.min_age, seconds(123));
  EXPECT_EQ(config.sftp.outbound_dir, "naar");
  EXPECT_EQ(config.sftp.return_dir, "van");
  EXPECT_EQ(config.sftp.poll_interval, seconds(13));
  EXPECT_EQ(config.sftp.max_download_bytes, 4096u);
  EXPECT_EQ(config.sftp.quarantine_max_files, 5u);
  EXPECT_EQ(config.sftp.quarantine_max_bytes, 6000u);
  EXPECT_EQ(config.sftp.quarantine_max_age, hours(24 * 8));
}

TEST_F(SftpSectionTest, AbsentKeysKeepTheDefaults) {
  const auto config = load_with(
      "[sftp]\nhost = \"sftp.partner.example\"\nuser = \"agii\"\nidentity_file = \"keys/id\"\n"
      "known_hosts_file = \"keys/known_hosts\"\noutbound_dir = \"naar\"\nreturn_dir = \"van\"\n");
  const kbix::SftpSettings& connection = config.sftp.connection;
  EXPECT_EQ(connection.port, 22);
  EXPECT_EQ(connection.connect_timeout, seconds(20));
  EXPECT_EQ(connection.operation_deadline, seconds(600));
  EXPECT_EQ(connection.keepalive_interval, seconds(30));
  EXPECT_EQ(connection.min_age, seconds(60));
  // What the file cannot set keeps the sftp module's own defaults.
  const kbix::SftpSettings defaults;
  EXPECT_EQ(connection.host_key_algorithms, defaults.host_key_algorithms);
  EXPECT_EQ(connection.key_exchange, defaults.key_exchange);
  EXPECT_EQ(connection.ciphers, defaults.ciphers);
  EXPECT_EQ(connection.macs, defaults.macs);
  EXPECT_EQ(connection.poll_settle, milliseconds(5000));
  EXPECT_EQ(config.sftp.poll_interval, seconds(300));
  EXPECT_FALSE(config.sftp.max_download_bytes);
  EXPECT_EQ(config.sftp.quarantine_max_files, 100u);
  EXPECT_EQ(config.sftp.quarantine_max_bytes, 1ULL << 30);
  EXPECT_EQ(config.sftp.quarantine_max_age, hours(24 * 90));
}

// The code's defaults are the loader's: a Config built in code connects as a loaded one does.
TEST(SftpSettingsDefaults, AgreeWithTheLoader) {
  const kbix::SftpSettings defaults;
  EXPECT_EQ(defaults.port, 22);
  EXPECT_EQ(defaults.connect_timeout, seconds(20));
  EXPECT_EQ(defaults.operation_deadline, seconds(600));
  EXPECT_EQ(defaults.keepalive_interval, seconds(30));
  EXPECT_EQ(defaults.min_age, seconds(60));
}

}  // namespace
