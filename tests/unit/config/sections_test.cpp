// Each section fills the settings of the module that owns them: [sftp] the sftp module's
// SftpSettings (kbix/sftp/sftp_settings.hpp) beside the exchange's directories and quarantine caps,
// [audit] the audit module's AuditSettings (kbix/audit/audit_settings.hpp). Every key, every
// default when a key is absent, and the code's defaults equal to the loader's.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "kbix/audit/audit_settings.hpp"
#include "kbix/config/config.hpp"
#include "kbix/sftp/sftp_settings.hpp"
#include "support/shipped_config.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Loads the shipped configuration with one section replaced, in a scratch directory of its own.
class SectionTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }

  // `section` replaces the shipped `[name]` section of kbix.toml (`in_exchange`: of vdab.toml),
  // up to the next section.
  kbix::Config load_with(const std::string& name, const std::string& section,
                         bool in_exchange = false) {
    auto shipped = kbix::test::shipped_config();
    std::string& text = in_exchange ? shipped.exchange : shipped.daemon;
    const auto start = text.find("[" + name + "]");
    const auto end = text.find("\n[", start + 1);
    text.replace(start, end == std::string::npos ? std::string::npos : end + 1 - start, section);
    auto config = kbix::load_config(shipped.write(dir_));
    EXPECT_TRUE(config) << config.error().describe();
    return config ? *config : kbix::Config{};
  }

  const fs::path dir_ = kbix::test::make_temp_dir("kbix-section");
};

TEST_F(SectionTest, SftpEveryKeyFillsItsSetting) {
  const auto config = load_with(
      "sftp",
      "[sftp]\nhost = \"sftp.partner.example\"\nport = 2222\nuser = \"agii\"\n"
      "identity_file = \"keys/id\"\nknown_hosts_file = \"keys/known_hosts\"\n"
      "outbound_dir = \"naar\"\nreturn_dir = \"van\"\nconnect_timeout_seconds = 7\n"
      "operation_deadline_seconds = 99\nkeepalive_seconds = 11\npoll_interval_seconds = 13\n"
      "min_file_age_seconds = 123\nmax_download_bytes = 4096\nquarantine_max_files = 5\n"
      "quarantine_max_bytes = 6000\nquarantine_max_age_days = 8\n",
      true);
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

TEST_F(SectionTest, SftpAbsentKeysKeepTheDefaults) {
  const auto config = load_with(
      "sftp",
      "[sftp]\nhost = \"sftp.partner.example\"\nuser = \"agii\"\nidentity_file = \"keys/id\"\n"
      "known_hosts_file = \"keys/known_hosts\"\noutbound_dir = \"naar\"\nreturn_dir = \"van\"\n",
      true);
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

TEST_F(SectionTest, AuditEveryKeyFillsItsSetting) {
  const auto config =
      load_with("audit",
                "[audit]\ncheckpoint_every = 7\nrotate_bytes = 8192\ncheckpoint_journal = false\n"
                "checkpoint_copy = \"copies/checkpoints.jsonl\"\n");
  const kbix::AuditSettings& audit = config.audit;
  EXPECT_EQ(audit.checkpoint_every, 7);
  EXPECT_EQ(audit.rotate_bytes, 8192);
  EXPECT_FALSE(audit.checkpoint_journal);
  EXPECT_EQ(audit.checkpoint_copy, dir_ / "copies/checkpoints.jsonl");
  // Where the log lives and what signs its checkpoints come from [daemon] and [keys].
  EXPECT_EQ(audit.directory, config.daemon.state_dir / "audit");
  EXPECT_EQ(audit.signing_key, config.keys.signing_key);
  EXPECT_EQ(audit.signing_certificate, config.keys.signing_certificate);
  EXPECT_EQ(audit.key_passphrase_file, config.keys.key_passphrase_file);
  EXPECT_FALSE(audit.signing_key.empty());
}

TEST_F(SectionTest, AuditEmptySectionKeepsTheDefaults) {
  const auto config = load_with("audit", "[audit]\n");
  const kbix::AuditSettings& audit = config.audit;
  EXPECT_EQ(audit.checkpoint_every, 100);
  EXPECT_EQ(audit.rotate_bytes, 64LL << 20);
  EXPECT_TRUE(audit.checkpoint_journal);
  EXPECT_FALSE(audit.checkpoint_copy);
}

// The code's defaults are the loader's: an audit log set up in code checkpoints as a loaded one.
TEST(AuditSettingsDefaults, AgreeWithTheLoader) {
  const kbix::AuditSettings defaults;
  EXPECT_EQ(defaults.checkpoint_every, 100);
  EXPECT_EQ(defaults.rotate_bytes, 64LL << 20);
  EXPECT_TRUE(defaults.checkpoint_journal);
  EXPECT_FALSE(defaults.checkpoint_copy);
}

}  // namespace
