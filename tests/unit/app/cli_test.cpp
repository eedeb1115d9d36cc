// Runs the real kbix binary, as an operator would.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace {

struct Outcome {
  int exit_code;
  std::string output;  // stdout and stderr together
};

Outcome kbix(const std::string& arguments) {
  const std::string command = std::string(KBIX_EXE) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

const std::string kData = KBIX_SOURCE_DIR "/tests/data/config/";

TEST(Cli, HelpTeachesCommandsAndExitCodes) {
  const auto help = kbix("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("check-config"), std::string::npos);
  EXPECT_NE(help.output.find("Exit codes: 0 success, 1 runtime failure, 2 bad usage, 78 "
                             "configuration error"),
            std::string::npos);
  EXPECT_NE(help.output.find("--check"), std::string::npos) << "status --check is listed";
}

TEST(Cli, VersionPrintsTheVersion) {
  const auto version = kbix("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("kbix ", 0), 0u);
}

TEST(Cli, NoOrUnknownSubcommandIsBadUsage) {
  EXPECT_EQ(kbix("").exit_code, 2);
  EXPECT_EQ(kbix("frobnicate").exit_code, 2);
  EXPECT_EQ(kbix("check-config --no-such-flag").exit_code, 2);
}

TEST(Cli, CheckConfigAcceptsTheShippedConfiguration) {
  const auto checked = kbix("check-config --config " KBIX_SOURCE_DIR "/config/kbix.toml");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("configuration OK"), std::string::npos);
  EXPECT_NE(checked.output.find("vdab-derde-pijler-2023"), std::string::npos);
}

TEST(Cli, CheckConfigOptionWorksBeforeTheSubcommandToo) {
  EXPECT_EQ(kbix("--config " KBIX_SOURCE_DIR "/config/kbix.toml check-config").exit_code, 0);
}

TEST(Cli, CheckConfigRejectsBrokenFilesWithExConfigAndPosition) {
  const auto broken = kbix("check-config --config " + kData + "unknown-key.toml");
  EXPECT_EQ(broken.exit_code, 78) << "EX_CONFIG: kbix.service does not restart on it";
  EXPECT_NE(broken.output.find("unknown-key.toml:40:8: [sftp] has an unknown key 'hots'"),
            std::string::npos)
      << broken.output;
  const auto missing = kbix("check-config --config " + kData + "does-not-exist.toml");
  EXPECT_EQ(missing.exit_code, 78);
  EXPECT_NE(missing.output.find("does-not-exist.toml: cannot open"), std::string::npos);
}

TEST(Cli, ConfigFileCanComeFromTheEnvironment) {
  const auto checked = kbix("check-config");  // no --config: the default path does not exist here
  EXPECT_EQ(checked.exit_code, 78);
  const std::string command = "KBIX_CONFIG=" KBIX_SOURCE_DIR "/config/kbix.toml " +
                              std::string(KBIX_EXE) + " check-config >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(command.c_str())), 0);
}

TEST(Cli, EveryCommandExitsWithExConfigOnABrokenConfiguration) {
  for (const char* command : {"daemon", "status", "run start", "keys check", "run once"}) {
    const auto broken = kbix(std::string(command) + " --config " + kData + "unknown-key.toml");
    EXPECT_EQ(broken.exit_code, 78) << command << ": " << broken.output;
  }
}

TEST(Cli, StatusCheckWithoutADaemonIsCriticalInOneLine) {
  // The shipped configuration's socket (/run/kbix/control.sock) has no daemon in the test.
  const auto check = kbix("status --check --config " KBIX_SOURCE_DIR "/config/kbix.toml");
  EXPECT_EQ(check.exit_code, 2) << check.output;
  EXPECT_EQ(check.output.rfind("KBIX CRITICAL - daemon not running (control.unreachable)", 0), 0u)
      << check.output;
  EXPECT_EQ(std::count(check.output.begin(), check.output.end(), '\n'), 1) << "one line";
}

TEST(Cli, StatusCheckWithoutAConfigurationIsUnknown) {
  const auto check = kbix("status --check --config " + kData + "unknown-key.toml");
  EXPECT_EQ(check.exit_code, 3) << check.output;
  EXPECT_EQ(check.output.rfind("KBIX UNKNOWN - ", 0), 0u) << check.output;
}

// The daemon runs as its own user: `kbix config migrate` (run by root) must leave the exchange
// file as readable as kbix.toml, or the next start fails (config.missing_file).
TEST(Cli, ConfigMigrateGivesTheExchangeFileTheModeOfKbixToml) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("kbix-migrate-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy(kData + "protocols", dir / "protocols", fs::copy_options::recursive);
  fs::copy_file(kData + "good.toml", dir / "kbix.toml");
  fs::permissions(dir / "kbix.toml", fs::perms(0644));
  const auto migrated = kbix("config migrate --config " + (dir / "kbix.toml").string());
  ASSERT_EQ(migrated.exit_code, 0) << migrated.output;
  EXPECT_EQ(fs::status(dir / "exchanges.d" / "vdab.toml").permissions(), fs::perms(0644));
  EXPECT_EQ(fs::status(dir / "kbix.toml").permissions(), fs::perms(0644));
  EXPECT_EQ(kbix("check-config --config " + (dir / "kbix.toml").string()).exit_code, 0);
  fs::remove_all(dir);
}

}  // namespace
