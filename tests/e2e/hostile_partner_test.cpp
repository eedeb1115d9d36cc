// What a hostile partner or SFTP server tries end to end (issue 13, items 1, 2, 5, 9), through
// the real sshd and the real kbix binary: a replayed authentic return, a profile downgrade, a
// banner of invalid UTF-8 and terminal escapes, an oversized return, a flood of stray returns.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "e2e/e2e_support.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

// Inserts `line` after the first line of the config that starts with `after`.
void add_config_line(const ExchangeWorld& world, const std::string& after,
                     const std::string& line) {
  std::string text;
  bool done = false;
  for (const auto& existing : read_lines(world.config_file())) {
    text += existing + "\n";
    if (!done && existing.rfind(after, 0) == 0) {
      text += line + "\n";
      done = true;
    }
  }
  ASSERT_TRUE(done) << "no line starting with " << after;
  std::ofstream(world.config_file(), std::ios::trunc) << text;
}

void replace_config_line(const ExchangeWorld& world, const std::string& prefix,
                         const std::string& line) {
  std::string text;
  for (const auto& existing : read_lines(world.config_file())) {
    text += (existing.rfind(prefix, 0) == 0 ? line : existing) + "\n";
  }
  std::ofstream(world.config_file(), std::ios::trunc) << text;
}

// The names of the files published so far.
std::set<std::string> output_names(const ExchangeWorld& world) {
  std::set<std::string> names;
  for (const auto& file : fs::directory_iterator(world.output_dir())) {
    names.insert(file.path().filename().string());
  }
  return names;
}

std::string forced_start(const std::string& extra = "") {
  return "run once --start --force --reason \"issue 13 test\" --wait 30" + extra;
}

// ---- item 1: replayed returns (invariant 13) ---------------------------------------------------

TEST(HostilePartner, AReplayedAuthenticReturnOfAnEarlierRunIsRefusedAndNothingIsPublished) {
  ExchangeWorld world("e2e-replay");
  world.generate_extract(60, 41);
  SimulatorThread partner(world, sim::CorruptMode::replay);
  const auto first = world.kbix("run once --start --wait 30");
  ASSERT_EQ(first.exit_code, 0) << "the first return is authentic: " << first.output;
  ASSERT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);
  const std::set<std::string> first_outputs = output_names(world);
  world.generate_extract(60, 41);
  const auto second = world.kbix(forced_start());
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("[envelope.replayed]"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("not retryable"), std::string::npos) << second.output;
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u) << "nothing more published";
  EXPECT_EQ(count_audit_events(world, "run.published"), 1u);
  expect_no_plaintext_left(world, first_outputs);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(HostilePartner, AReturnSignedBeforeThisRunsUploadIsStale) {
  ExchangeWorld world("e2e-stale");
  add_config_line(world, "envelope_profile", "signing_time_skew_seconds = 0");
  world.generate_extract(60, 42);
  SimulatorThread partner(world, sim::CorruptMode::replay);
  ASSERT_EQ(world.kbix("run once --start --wait 30").exit_code, 0);
  const std::set<std::string> first_outputs = output_names(world);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // signingTime has whole seconds
  world.generate_extract(60, 43);
  const auto second = world.kbix(forced_start());
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("[envelope.stale_signature]"), std::string::npos) << second.output;
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u) << "nothing more published";
  expect_no_plaintext_left(world, first_outputs);
}

// ---- item 2: profile downgrade ------------------------------------------------------------------

TEST(HostilePartner, AGcmReturnToACbcPartnerIsRefused) {
  ExchangeWorld world("e2e-gcm-to-cbc");
  world.write_config("cbc");
  world.generate_extract(40, 45);
  SimulatorThread partner(world);  // the simulator seals gcm
  const auto once = world.kbix("run once --start --wait 30");
  EXPECT_EQ(once.exit_code, 1) << once.output;
  EXPECT_NE(once.output.find("[envelope.profile_mismatch]"), std::string::npos) << once.output;
  EXPECT_TRUE(files_under(world.output_dir()).empty());
  expect_no_plaintext_left(world, {});
}

TEST(HostilePartner, ACbcPartnerSendingCbcStillFinishes) {
  ExchangeWorld world("e2e-cbc");
  world.write_config("cbc");
  world.generate_extract(40, 46);
  SimulatorThread partner(world, sim::CorruptMode::other_profile);  // gcm -> cbc: as agreed
  const auto once = world.kbix("run once --start --wait 30");
  EXPECT_EQ(once.exit_code, 0) << once.output;
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);
}

// ---- item 5: a hostile banner -------------------------------------------------------------------

// tests/e2e/fake_ssh_server.py on a free loopback port, stopped by its pid.
class FakeSshServer {
 public:
  explicit FakeSshServer(const std::string& hex_payload) {
    const std::string command = "python3 " KBIX_SOURCE_DIR "/tests/e2e/fake_ssh_server.py " +
                                hex_payload + " & echo $!; wait";
    pipe_ = ::popen(command.c_str(), "r");
    if (pipe_ == nullptr || std::fscanf(pipe_, "%d %d", &pid_, &port_) != 2) {
      throw std::runtime_error("the fake SSH server did not start");
    }
  }
  ~FakeSshServer() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (pipe_ != nullptr) ::pclose(pipe_);
  }
  int port() const { return port_; }

 private:
  FILE* pipe_ = nullptr;
  int pid_ = -1;
  int port_ = 0;
};

std::string to_hex(const std::string& bytes) {
  std::string hex;
  char pair[3];
  for (const unsigned char byte : bytes) {
    std::snprintf(pair, sizeof pair, "%02x", byte);
    hex += pair;
  }
  return hex;
}

TEST(HostileServer, ABannerOfInvalidUtf8AndEscapesNeitherStopsTheDaemonNorReachesTheTerminal) {
  ExchangeWorld world("e2e-banner");
  world.generate_extract(20, 47);
  // libssh 0.10 skips lines before the one starting with "SSH-" and quotes that line whole in
  // its error when the version is not 2.0 ("Protocol mismatch: SSH-9.9-...").
  FakeSshServer fake(
      to_hex("SSH-9.9-\x1b[2J\x1b]0;owned\x07\xff\xfe\xc0\xaf"
             "BANNER\r\n"));
  replace_config_line(world, "port = ", "port = " + std::to_string(fake.port()));
  Daemon daemon(world);
  ASSERT_EQ(world.kbix("run start").exit_code, 0);
  CommandOutcome status;
  for (int i = 0; i < 120; ++i) {
    status = world.kbix("status");
    if (status.exit_code != 0 || status.output.find("BANNER") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(status.exit_code, 0) << "the daemon still answers: " << status.output;
  EXPECT_NE(status.output.find("BANNER"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("\\x1b[2J"), std::string::npos) << "shown escaped";
  EXPECT_NE(status.output.find("\xEF\xBF\xBD"), std::string::npos) << "invalid UTF-8 replaced";
  EXPECT_EQ(status.output.find('\x1b'), std::string::npos) << "no raw ESC on the terminal";
  EXPECT_EQ(status.output.find('\x07'), std::string::npos);
  EXPECT_EQ(status.output.find('\xff'), std::string::npos);
  EXPECT_EQ(world.kbix("status --json").exit_code, 0);
  EXPECT_EQ(::kill(daemon.pid(), 0), 0) << "the daemon is alive";
  EXPECT_EQ(daemon.stop(), 0) << read_file(daemon.log_file());
  EXPECT_EQ(read_file(daemon.log_file()).find('\x1b'), std::string::npos) << "nor in the journal";
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(HostileInput, AnInboxFileNameOfInvalidUtf8IsRefusedAndShownSanitised) {
  ExchangeWorld world("e2e-bad-name");
  const fs::path extract = world.generate_extract(20, 50);
  fs::rename(extract, world.inbox_dir() / "kbi-\xff\xfe\x1b[31m.csv");
  const auto once = world.kbix("run once --start");
  EXPECT_EQ(once.exit_code, 1) << once.output;
  EXPECT_NE(once.output.find("[run.bad_extract_name]"), std::string::npos) << once.output;
  EXPECT_NE(once.output.find("kbi-\xEF\xBF\xBD\xEF\xBF\xBD\\x1b[31m.csv"), std::string::npos)
      << once.output;
  EXPECT_EQ(once.output.find('\x1b'), std::string::npos);
  EXPECT_EQ(world.kbix("status").exit_code, 0);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

// ---- item 9: a hostile server cannot fill the disk ----------------------------------------------

TEST(HostileServer, AnOversizedReturnIsRefusedAndNothingHalfWrittenIsLeft) {
  ExchangeWorld world("e2e-oversized");
  add_config_line(world, "min_file_age_seconds", "max_download_bytes = 1048576");
  world.generate_extract(40, 48);
  {
    SimulatorThread partner(world, sim::CorruptMode::oversized);
    const auto once = world.kbix("run once --start --wait 30");
    EXPECT_EQ(once.exit_code, 1) << once.output;
    EXPECT_NE(once.output.find("[sftp.too_large]"), std::string::npos) << once.output;
    EXPECT_NE(once.output.find("not retryable"), std::string::npos) << once.output;
  }
  for (const auto& file : files_under(world.state_dir() / "runs")) {
    EXPECT_EQ(file.filename().string().find("return"), std::string::npos)
        << "nothing of the return was written: " << file;
  }
  EXPECT_TRUE(files_under(world.output_dir()).empty());
  EXPECT_EQ(count_audit_events(world, "run.download"), 0u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(HostileServer, TheQuarantineIsCappedAndPurgedAfterItsAge) {
  ExchangeWorld world("e2e-quarantine-caps");
  add_config_line(world, "min_file_age_seconds", "quarantine_max_files = 3");
  world.generate_extract(40, 49);
  // Already in the quarantine: a file older than quarantine_max_age_days (90), purged.
  const fs::path old = world.state_dir() / "quarantine" / "old-stray.csv.p7m";
  fs::create_directories(old.parent_path());
  std::ofstream(old) << "stray";
  fs::last_write_time(old, fs::file_time_type::clock::now() - std::chrono::hours(24 * 91));
  // Four stray returns for runs that do not exist: with the old one, room for two only.
  for (const char* day : {"01", "02", "03", "04"}) {
    std::ofstream(
        world.sshd().sftp_root() / "van-vdab" /
        ("vdab-derde-pijler-2023_202001" + std::string(day) + "T000000Z-dead-verrijkt.csv.p7m"))
        << std::string(1000, 'x');
  }
  SimulatorThread partner(world);
  const auto once = world.kbix("run once --start --wait 60");
  EXPECT_EQ(once.exit_code, 0) << once.output;
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u) << "the run is unharmed";
  EXPECT_EQ(count_audit_events(world, "return.quarantined"), 2u);
  EXPECT_EQ(count_audit_events(world, "return.quarantine_full"), 2u) << "once per refused file";
  EXPECT_FALSE(fs::exists(old));
  EXPECT_EQ(count_audit_events(world, "quarantine.purge"), 1u);
  EXPECT_EQ(files_under(world.state_dir() / "quarantine").size(), 2u);
  EXPECT_EQ(files_under(world.sshd().sftp_root() / "van-vdab").size(), 2u) << "left on the server";
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

}  // namespace
}  // namespace kbix::test
