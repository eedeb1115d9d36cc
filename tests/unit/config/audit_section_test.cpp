// The [audit] section fills the audit module's own settings (kbix/audit/audit_settings.hpp): every
// key, the directory and signing key from [daemon] and [keys], and every default.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kbix/audit/audit_settings.hpp"
#include "kbix/config/config.hpp"
#include "support/shipped_config.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

class AuditSectionTest : public ::testing::Test {
 protected:
  void TearDown() override { fs::remove_all(dir_); }

  // The shipped configuration with its [audit] section replaced by `section`.
  kbix::Config load_with(const std::string& section) {
    auto shipped = kbix::test::shipped_config();
    const auto start = shipped.daemon.find("[audit]");
    const auto end = shipped.daemon.find("\n[", start + 1);
    shipped.daemon.replace(start, end - start, section);
    auto config = kbix::load_config(shipped.write(dir_));
    EXPECT_TRUE(config) << config.error().describe();
    return config ? *config : kbix::Config{};
  }

  const fs::path dir_ = kbix::test::make_temp_dir("kbix-audit-section");
};

TEST_F(AuditSectionTest, EveryKeyFillsItsSetting) {
  const auto config = load_with(
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

TEST_F(AuditSectionTest, AnEmptySectionKeepsTheDefaults) {
  const auto config = load_with("[audit]\n");
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
