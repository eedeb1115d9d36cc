// Faults and hostile partners end to end (issue 8): bad returns from the simulator, the SFTP
// server gone during the run, a full disk at publication. Each ends failed-and-explained or
// finished after recovery, with nothing published by mistake and the audit chain intact.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "e2e/e2e_support.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

struct HostileReturnCase {
  sim::CorruptMode mode;
  const char* code;
};

void PrintTo(const HostileReturnCase& c, std::ostream* out) {
  *out << c.code;
}

class HostileReturn : public ::testing::TestWithParam<HostileReturnCase> {};

TEST_P(HostileReturn, IsRefusedWithItsCodeAndNothingIsPublished) {
  ExchangeWorld world("e2e-hostile");
  world.generate_extract(80, 31);
  {
    SimulatorThread partner(world, GetParam().mode);
    const auto once = world.kbix("run once --start --wait 30");
    EXPECT_EQ(once.exit_code, 1) << once.output;
    EXPECT_NE(once.output.find("failed in "), std::string::npos) << once.output;
    EXPECT_NE(once.output.find(std::string("[") + GetParam().code + "]"), std::string::npos)
        << once.output;
    EXPECT_NE(once.output.find("not retryable"), std::string::npos) << once.output;
  }
  expect_no_plaintext_left(world, /*expected_outputs=*/{});  // nothing published (inv. 3, 4)
  EXPECT_EQ(count_audit_events(world, "run.failed"), 1u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
  // the sealed return stays as evidence; the operator can start a fresh run afterwards
  EXPECT_EQ(files_with_suffix(world.state_dir() / "runs", "return.csv.p7m").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Partner, HostileReturn,
    ::testing::Values(
        HostileReturnCase{sim::CorruptMode::extra_column, "schema.extra_column"},
        HostileReturnCase{sim::CorruptMode::missing_column, "schema.missing_column"},
        HostileReturnCase{sim::CorruptMode::unsent_insz, "merge.insz_not_sent"},
        HostileReturnCase{sim::CorruptMode::duplicate_insz, "merge.duplicate_in_return"},
        HostileReturnCase{sim::CorruptMode::flip_byte, "envelope.integrity"},
        HostileReturnCase{sim::CorruptMode::wrong_signer, "envelope.unknown_signer"},
        HostileReturnCase{sim::CorruptMode::other_profile, "envelope.profile_mismatch"}),
    [](const ::testing::TestParamInfo<HostileReturnCase>& param_info) {
      std::string name = param_info.param.code;  // stable test names: "schema_extra_column", ...
      std::replace(name.begin(), name.end(), '.', '_');
      return name;
    });

TEST(Faults, ServerDownAtUploadFailsRetryablyAndTheNextRunOnceFinishes) {
  ExchangeWorld world("e2e-down");
  world.generate_extract(60, 32);
  world.sshd().stop();
  const auto failed = world.kbix("run once --start");
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_NE(failed.output.find("[sftp.connect_failed]"), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("retry with"), std::string::npos) << failed.output;
  world.sshd().start();
  SimulatorThread partner(world);
  const auto resumed = world.kbix("run once --wait 60");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(" done since"), std::string::npos) << resumed.output;
  EXPECT_EQ(count_audit_events(world, "run.upload"), 1u);
  EXPECT_EQ(count_audit_events(world, "run.retry"), 1u) << "resumed automatically, audited";
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Faults, AChangedHostKeyFailsTheRunWithoutRetryAndSendsNothing) {
  ExchangeWorld world("e2e-hostkey");
  world.generate_extract(40, 35);
  const fs::path other_key = world.state_dir().parent_path() / "another_host_key";
  make_ed25519_key(other_key);
  world.sshd().write_known_hosts(world.sshd().known_hosts(), other_key.string() + ".pub");
  const auto failed = world.kbix("run once --start");
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_NE(failed.output.find("[sftp.host_key_mismatch]"), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("not retryable"), std::string::npos) << failed.output;
  const auto again = world.kbix("run once");
  EXPECT_NE(again.output.find("failed in "), std::string::npos) << again.output;
  EXPECT_EQ(count_audit_events(world, "run.retry"), 0u) << "never retried automatically (inv. 6)";
  EXPECT_TRUE(files_under(world.sshd().sftp_root()).empty()) << "nothing was sent";
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Faults, ServerDownWhileWaitingForTheReturnKeepsTheRunWaiting) {
  ExchangeWorld world("e2e-wait");
  world.generate_extract(60, 33);
  const auto started = world.kbix("run once --start");
  EXPECT_EQ(started.exit_code, 0) << started.output;
  EXPECT_NE(started.output.find("awaiting_return"), std::string::npos) << started.output;
  world.sshd().kill();
  const auto polled = world.kbix("run once");
  EXPECT_EQ(polled.exit_code, 1) << "the poll failed: " << polled.output;
  EXPECT_NE(polled.output.find("awaiting_return"), std::string::npos)
      << "a failed poll does not fail the run: " << polled.output;
  world.sshd().start();
  SimulatorThread partner(world);
  const auto finished = world.kbix("run once --wait 60");
  EXPECT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_NE(finished.output.find(" done since"), std::string::npos) << finished.output;
  EXPECT_EQ(count_audit_events(world, "run.upload"), 1u);
}

// The merge writes the output in the output folder (where it is published, under a hidden name):
// a full disk there fails the merge, and a retry after room was made publishes once.
TEST(Faults, DiskFullInTheOutputFolderPublishesNothingAndRecovers) {
  ExchangeWorld world("e2e-diskfull");
  world.generate_extract(2000, 34);
  ASSERT_EQ(::mount("tmpfs", world.output_dir().c_str(), "tmpfs", 0, "size=64k"), 0)
      << "mounting a small tmpfs needs root (CI runs as root)";
  SimulatorThread partner(world);
  const auto full = world.kbix("run once --start --wait 30");
  EXPECT_EQ(full.exit_code, 1) << full.output;
  EXPECT_NE(full.output.find("failed in return_verified"), std::string::npos) << full.output;
  EXPECT_NE(full.output.find("[io."), std::string::npos) << full.output;
  EXPECT_TRUE(files_under(world.output_dir()).empty()) << "no partial output is ever visible";
  ASSERT_EQ(::umount(world.output_dir().c_str()), 0);
  const auto recovered = world.kbix("run once --wait 30");
  EXPECT_EQ(recovered.exit_code, 0) << recovered.output;
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);
  EXPECT_EQ(count_audit_events(world, "run.published"), 1u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

TEST(Faults, AReturnForAnUnknownRunIsQuarantinedNeverMerged) {
  ExchangeWorld world("e2e-quarantine");
  world.generate_extract(40, 35);
  const auto started = world.kbix("run once --start");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  // a stray return for a run that does not exist, sealed like a real one
  const std::string stray = "vdab-derde-pijler-2023_20200101T000000Z-dead-verrijkt.csv.p7m";
  fs::copy_file(world.sshd().sftp_root() / "naar-vdab" /
                    files_under(world.sshd().sftp_root() / "naar-vdab").front().filename(),
                world.sshd().sftp_root() / "van-vdab" / stray);
  SimulatorThread partner(world);
  const auto finished = world.kbix("run once --wait 60");
  EXPECT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_TRUE(fs::exists(world.state_dir() / "quarantine" / stray));
  EXPECT_EQ(count_audit_events(world, "return.quarantined"), 1u);
  EXPECT_EQ(files_with_suffix(world.output_dir(), ".csv").size(), 1u);
}

}  // namespace
}  // namespace kbix::test
