#include "kbix/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/shipped_config.hpp"

namespace {

const std::filesystem::path kConfigDir = KBIX_SOURCE_DIR "/tests/data/config";

TEST(Config, ShippedConfigurationLoads) {
  auto config = kbix::load_config(KBIX_SOURCE_DIR "/config/kbix.toml");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->protocol.id, "vdab-derde-pijler-2023");
  EXPECT_EQ(config->sftp.connection.port, 22);
  EXPECT_EQ(config->sftp.outbound_dir, "naar-vdab");
  EXPECT_EQ(config->sftp.return_dir, "van-vdab");
  EXPECT_EQ(config->partner.envelope_profile, "gcm");
  EXPECT_EQ(config->schedule.run_dates, (std::vector<std::string>{"03-15", "09-15"}));
  EXPECT_EQ(config->schedule.return_deadline, std::chrono::hours(24 * 30));
  EXPECT_EQ(config->daemon.state_dir, "/var/lib/kbix");
  EXPECT_EQ(config->exchange.name, "vdab");
  EXPECT_EQ(config->exchange.file, KBIX_SOURCE_DIR "/config/exchanges.d/vdab.toml");
  EXPECT_EQ(config->inbox(), "/var/lib/kbix/inbox/kbi-vdab");
  EXPECT_EQ(config->audit.checkpoint_every, 100);
  EXPECT_EQ(config->partner.signing_time_skew, std::chrono::seconds(600));
  EXPECT_FALSE(config->sftp.max_download_bytes) << "derived from the outbound size";
  EXPECT_EQ(kbix::return_download_cap(config->sftp, 1000), 50'000 + (64ULL << 20));
  EXPECT_EQ(config->sftp.quarantine_max_files, 100u);
  EXPECT_EQ(config->sftp.quarantine_max_bytes, 1ULL << 30);
  EXPECT_EQ(config->sftp.quarantine_max_age, std::chrono::hours(24 * 90));
  // Relative paths resolve against the configuration's own directory.
  EXPECT_EQ(config->protocol_file,
            std::filesystem::path(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml")
                .lexically_normal());
}

TEST(Config, RelativePathsInsideTheDirectoryResolveAgainstIt) {
  auto config = kbix::load_config(kConfigDir / "good.toml");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->protocol_file.parent_path().filename(), "protocols");
  EXPECT_TRUE(config->protocol_file.is_absolute());
}

TEST(Config, WarningsNameMissingKeyFilesWithoutFailingTheLoad) {
  auto config = kbix::load_config(kConfigDir / "good.toml");
  ASSERT_TRUE(config);
  const auto warnings = kbix::config_warnings(*config);
  ASSERT_FALSE(warnings.empty());
  bool names_signing_key = false;
  for (const auto& w : warnings) names_signing_key |= w.find("agii-sign.key") != std::string::npos;
  EXPECT_TRUE(names_signing_key);
}

TEST(Config, WorldReadableKeyIsAWarningNamingTheMode) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("kbix-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ifstream in(kConfigDir / "good.toml");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const std::string from = "/etc/kbix/keys/agii-sign.key";
  text.replace(text.find(from), from.size(), (dir / "sign.key").string());
  const std::string proto = "protocols/vdab-derde-pijler-2023.toml";
  text.replace(text.find(proto), proto.size(),
               KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  std::ofstream(dir / "kbix.toml") << text;
  std::ofstream(dir / "sign.key") << "not really a key";
  std::filesystem::permissions(dir / "sign.key", std::filesystem::perms(0644));

  auto config = kbix::load_config(dir / "kbix.toml");
  ASSERT_TRUE(config) << config.error().describe();
  bool found = false;
  for (const auto& w : kbix::config_warnings(*config)) {
    found |= w.find("sign.key: mode 0644") != std::string::npos;
  }
  EXPECT_TRUE(found);
  std::filesystem::remove_all(dir);
}

struct BrokenConfig {
  const char* file;
  const char* code;
  const char* position;  // "LINE:COL" expected right after the file name
  const char* words;     // a phrase the person must see
};

class BrokenConfigTest : public testing::TestWithParam<BrokenConfig> {};

TEST_P(BrokenConfigTest, IsRejectedWithFileLineAndAnActionableMessage) {
  const BrokenConfig& c = GetParam();
  const auto file = kConfigDir / c.file;
  auto config = kbix::load_config(file);
  ASSERT_FALSE(config) << c.file << " should have been rejected";
  EXPECT_EQ(config.error().code, c.code);
  EXPECT_NE(config.error().message.find(std::string(c.position) + ": "), std::string::npos)
      << config.error().message;
  EXPECT_NE(config.error().message.find(c.words), std::string::npos) << config.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, BrokenConfigTest,
    testing::Values(BrokenConfig{"syntax-error.toml", "config.syntax", "syntax-error.toml:38:26",
                                 "parsing string"},
                    BrokenConfig{"unknown-key.toml", "config.unknown_key", "unknown-key.toml:40:8",
                                 "[sftp] has an unknown key 'hots'"},
                    BrokenConfig{"wrong-type.toml", "config.type", "wrong-type.toml:39:8",
                                 "port: must be a whole number"},
                    BrokenConfig{"port-out-of-range.toml", "config.range",
                                 "port-out-of-range.toml:39:8", "between 1 and 65535"},
                    BrokenConfig{"missing-section.toml", "config.missing_key",
                                 "missing-section.toml:1:1", "needs the section [keys]"},
                    BrokenConfig{"missing-key.toml", "config.missing_key", "missing-key.toml:37:1",
                                 "[sftp] needs the key 'user'"},
                    BrokenConfig{"path-escapes.toml", "config.path_escape",
                                 "path-escapes.toml:7:13", "leaves the configuration directory"},
                    BrokenConfig{"missing-protocol.toml", "config.missing_file",
                                 "missing-protocol.toml:15:8", "no-such-protocol.toml not found"},
                    BrokenConfig{"bad-profile.toml", "config.value", "bad-profile.toml:35:20",
                                 "\"gcm\" (default) or \"cbc\""},
                    BrokenConfig{"bad-run-date.toml", "config.value", "bad-run-date.toml:18:13",
                                 "'02-30' is not MM-DD"},
                    BrokenConfig{"bad-skew.toml", "config.range", "bad-skew.toml:36:29",
                                 "signing_time_skew_seconds: must be between 0 and 86400"},
                    BrokenConfig{"bad-download-cap.toml", "config.range",
                                 "bad-download-cap.toml:50:22",
                                 "max_download_bytes: must be between"},
                    // a value echoed back is shown sanitised (invariant 16): ESC as \x1b
                    BrokenConfig{"escape-in-value.toml", "config.value",
                                 "escape-in-value.toml:18:13", "'\\x1b[2J02-30' is not MM-DD"},
                    BrokenConfig{"bad-log-level.toml", "config.value", "bad-log-level.toml:12:13",
                                 "must be one of trace"},
                    BrokenConfig{"unknown-section.toml", "config.unknown_key",
                                 "unknown-section.toml:55:1", "unknown key 'extra'"},
                    BrokenConfig{"bad-protocol.toml", "config.value", "outbound-leaks.toml:37:12",
                                 "only the key column may leave AgII"}),
    [](const testing::TestParamInfo<BrokenConfig>& param_info) {
      std::string name = param_info.param.file;
      name = name.substr(0, name.find('.'));
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

}  // namespace

namespace {

// Writes the shipped configuration (credential:NAME keys) to a directory of its own, with `from`
// replaced by `to` (in kbix.toml or exchanges.d/vdab.toml, whichever holds it).
std::filesystem::path shipped_config_copy(const std::string& from = "",
                                          const std::string& to = "") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("kbix-credential-" + std::to_string(::getpid()));
  auto shipped = kbix::test::shipped_config();
  if (!from.empty()) shipped.replace(from, to);
  return shipped.write(dir);
}

TEST(ConfigCredentials, ResolveThroughCredentialsDirectoryUnderTheService) {
  const auto file = shipped_config_copy();
  ::setenv("CREDENTIALS_DIRECTORY", "/run/credentials/kbix.service", 1);
  auto config = kbix::load_config(file);
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->keys.signing_key, "/run/credentials/kbix.service/agii-sign.key");
  EXPECT_EQ(config->keys.decryption_key, "/run/credentials/kbix.service/agii-enc.key");
  EXPECT_EQ(config->sftp.connection.identity_file, "/run/credentials/kbix.service/ssh-identity");
  EXPECT_EQ(config->keys.signing_certificate, "/etc/kbix/keys/agii-sign.crt") << "a plain path";

  ::setenv("CREDENTIALS_DIRECTORY", "/somewhere/else", 1);
  config = kbix::load_config(file);
  EXPECT_FALSE(kbix::is_service_credential("/somewhere/else/agii-sign.key")) << "inside: ours";
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->keys.signing_key, "/somewhere/else/agii-sign.key");
  std::filesystem::remove_all(file.parent_path());
}

TEST(ConfigCredentials, OutsideTheServiceTheyAreTheServicesAndNotWarnedAbout) {
  const auto file = shipped_config_copy();
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto config = kbix::load_config(file);
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->keys.signing_key, "/run/credentials/kbix.service/agii-sign.key");
  EXPECT_TRUE(kbix::is_service_credential(config->keys.signing_key));
  EXPECT_FALSE(kbix::is_service_credential(config->keys.signing_certificate));
  for (const auto& warning : kbix::config_warnings(*config)) {
    EXPECT_EQ(warning.find("/run/credentials"), std::string::npos) << warning;
  }
  std::filesystem::remove_all(file.parent_path());
}

TEST(ConfigCredentials, ABadCredentialNameIsRefusedWithItsPosition) {
  for (const std::string bad : {"credential:../../etc/shadow", "credential:", "credential:a/b"}) {
    const auto file = shipped_config_copy("credential:agii-sign.key", bad);
    auto config = kbix::load_config(file);
    ASSERT_FALSE(config) << bad;
    EXPECT_EQ(config.error().code, "config.value");
    EXPECT_NE(config.error().message.find("kbix.toml:"), std::string::npos)
        << config.error().message;
    EXPECT_NE(config.error().message.find("credential name"), std::string::npos);
    std::filesystem::remove_all(file.parent_path());
  }
}

TEST(ConfigRollover, TheSingleKeysAreOneElementLists) {
  const auto file = shipped_config_copy();
  auto config = kbix::load_config(file);
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->partner.signing_certificates,
            std::vector<std::filesystem::path>{"/etc/kbix/keys/vdab-sign.crt"});
  EXPECT_EQ(config->partner.encryption_certificates,
            std::vector<std::filesystem::path>{"/etc/kbix/keys/vdab-enc.crt"});
  EXPECT_EQ(config->partner.signing_certificate, "/etc/kbix/keys/vdab-sign.crt");
  EXPECT_TRUE(config->keys.previous_decryption_keys.empty());
  EXPECT_TRUE(config->keys.previous_signing_certificates.empty());
  std::filesystem::remove_all(file.parent_path());
}

TEST(ConfigRollover, ListsAndPreviousKeysAreRead) {
  const auto file =
      shipped_config_copy("signing_certificate = \"/etc/kbix/keys/vdab-sign.crt\"",
                          "signing_certificates = [\"/etc/kbix/keys/vdab-sign-2023.crt\", "
                          "\"keys/vdab-sign-2026.crt\"]");
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const std::string anchor = "expiry_warning_days = 60";
  text.insert(text.find(anchor),
              "previous_decryption_keys = [{ certificate = \"/etc/kbix/keys/agii-enc-2023.crt\", "
              "key = \"credential:agii-enc-2023.key\" }]\n"
              "previous_signing_certificates = [\"/etc/kbix/keys/agii-sign-2023.crt\"]\n");
  std::ofstream(file) << text;
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto config = kbix::load_config(file);
  ASSERT_TRUE(config) << config.error().describe();
  ASSERT_EQ(config->partner.signing_certificates.size(), 2u);
  EXPECT_EQ(config->partner.signing_certificates[1],
            file.parent_path() / "keys/vdab-sign-2026.crt");
  EXPECT_EQ(config->partner.signing_certificate, config->partner.signing_certificates[1]);
  ASSERT_EQ(config->keys.previous_decryption_keys.size(), 1u);
  EXPECT_EQ(config->keys.previous_decryption_keys[0].certificate,
            "/etc/kbix/keys/agii-enc-2023.crt");
  EXPECT_EQ(config->keys.previous_decryption_keys[0].key,
            "/run/credentials/kbix.service/agii-enc-2023.key");
  EXPECT_EQ(config->keys.previous_signing_certificates,
            std::vector<std::filesystem::path>{"/etc/kbix/keys/agii-sign-2023.crt"});
  // Previous certificates are named when missing, like the current ones.
  bool named = false;
  for (const auto& warning : kbix::config_warnings(*config)) {
    named |= warning.find("agii-enc-2023.crt: file not found") != std::string::npos;
  }
  EXPECT_TRUE(named);
  std::filesystem::remove_all(file.parent_path());
}

TEST(ConfigRollover, BothFormsOrNeitherOrABadEntryAreRefusedWithTheirPosition) {
  struct Case {
    std::string from, to, expected, file = "vdab.toml:";
  };
  const std::vector<Case> cases = {
      {"signing_certificate = \"/etc/kbix/keys/vdab-sign.crt\"",
       "signing_certificate = \"/a.crt\"\nsigning_certificates = [\"/b.crt\"]", "not both"},
      {"signing_certificate = \"/etc/kbix/keys/vdab-sign.crt\"", "", "needs signing_certificate"},
      {"signing_certificate = \"/etc/kbix/keys/vdab-sign.crt\"", "signing_certificates = []",
       "at least one"},
      {"expiry_warning_days",
       "previous_decryption_keys = [{ certificate = \"/a.crt\" }]\nexpiry_warning_days",
       "previous_decryption_keys[1] needs the key 'key'", "kbix.toml:"},
      {"expiry_warning_days",
       "previous_decryption_keys = [{ certificate = \"/a.crt\", key = \"/a.key\", extra = 1 "
       "}]\nexpiry_warning_days",
       "unknown key 'extra'", "kbix.toml:"},
      {"expiry_warning_days", "previous_decryption_keys = [\"/a.key\"]\nexpiry_warning_days",
       "list of tables", "kbix.toml:"},
  };
  for (const auto& c : cases) {
    const auto file = shipped_config_copy(c.from, c.to);
    auto config = kbix::load_config(file);
    ASSERT_FALSE(config) << c.to;
    EXPECT_NE(config.error().message.find(c.expected), std::string::npos) << config.error().message;
    EXPECT_NE(config.error().message.find(c.file), std::string::npos) << config.error().message;
    std::filesystem::remove_all(file.parent_path());
  }
}

}  // namespace
