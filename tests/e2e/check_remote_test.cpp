// `kbix check-remote` and `kbix run start --dry-run` (the preflight). check-remote against the real
// test sshd: all checks pass on a good set-up; another host key, a missing directory and a
// read-only directory each fail the right check with a clear line.
#include <gtest/gtest.h>

#include <algorithm>

#include "e2e/e2e_support.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

// The output line that starts with `status` and holds `what`, or "" when there is none.
std::string line_of(const std::string& output, const std::string& status, const std::string& what) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(status, 0) == 0 && line.find(what) != std::string::npos) return line;
  }
  return "";
}

TEST(CheckRemote, AllChecksPassAgainstAGoodServerAndNothingIsLeftThere) {
  ExchangeWorld world("e2e-check-remote");
  const auto checked = world.kbix("check-remote");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(line_of(checked.output, "OK   ", "seal a test envelope to VDAB's encryption"), "");
  EXPECT_NE(line_of(checked.output, "OK   ", "(pinned host key, key authentication): ssh-ed25519"),
            "");
  for (const char* dir : {"outbound directory naar-vdab", "return directory van-vdab"}) {
    EXPECT_NE(line_of(checked.output, "OK   ", std::string(dir) + " exists"), "") << dir;
    EXPECT_NE(
        line_of(checked.output, "OK   ", std::string(dir) + " writable: probe kbix-check-remote-"),
        "")
        << checked.output;
  }
  EXPECT_EQ(line_of(checked.output, "FAIL", ""), "");
  EXPECT_TRUE(ExchangeWorld::files_under(world.sshd().sftp_root()).empty())
      << "the probe (and its temporary name) is removed";
}

TEST(CheckRemote, AnotherHostKeyFailsTheConnectCheckAndSkipsTheRest) {
  ExchangeWorld world("e2e-check-remote-hostkey");
  const fs::path other = world.dir() / "other_host_key";
  ASSERT_EQ(run_shell("ssh-keygen -q -t ed25519 -N '' -f " + other.string()).exit_code, 0);
  world.sshd().write_known_hosts(world.sshd().known_hosts(), other.string() + ".pub");
  const auto checked = world.kbix("check-remote");
  EXPECT_EQ(checked.exit_code, 1) << checked.output;
  const auto connect = line_of(checked.output, "FAIL ", "connect to ");
  EXPECT_NE(connect.find("host_key"), std::string::npos) << checked.output;
  EXPECT_NE(
      line_of(checked.output, "SKIP ", "outbound directory naar-vdab writable: no connection"), "");
  EXPECT_NE(line_of(checked.output, "OK   ", "seal a test envelope"), "") << "independent of SFTP";
}

TEST(CheckRemote, AMissingReturnDirectoryFailsItsOwnCheckOnly) {
  ExchangeWorld world("e2e-check-remote-missing");
  fs::remove_all(world.sshd().sftp_root() / "van-vdab");
  const auto checked = world.kbix("check-remote");
  EXPECT_EQ(checked.exit_code, 1) << checked.output;
  EXPECT_NE(line_of(checked.output, "FAIL ", "return directory van-vdab exists: "), "")
      << checked.output;
  EXPECT_NE(line_of(checked.output, "OK   ", "outbound directory naar-vdab writable"), "");
  EXPECT_NE(line_of(checked.output, "OK   ", "connect to "), "");
}

TEST(CheckRemote, AReadOnlyOutboundDirectoryFailsTheWritableCheck) {
  ExchangeWorld world("e2e-check-remote-readonly");
  const fs::path outbound = world.sshd().sftp_root() / "naar-vdab";
  // The tests may run as root, whom permission bits do not stop: the immutable flag does.
  const auto frozen = run_shell("chattr +i " + outbound.string());
  ASSERT_EQ(frozen.exit_code, 0) << "chattr +i is needed to make a read-only directory for root: "
                                 << frozen.output;
  const auto checked = world.kbix("check-remote");
  (void)run_shell("chattr -i " + outbound.string());
  EXPECT_EQ(checked.exit_code, 1) << checked.output;
  EXPECT_NE(line_of(checked.output, "OK   ", "outbound directory naar-vdab exists"), "");
  EXPECT_NE(line_of(checked.output, "FAIL ",
                    "outbound directory naar-vdab writable: cannot write and rename a probe"),
            "")
      << checked.output;
  EXPECT_NE(line_of(checked.output, "OK   ", "return directory van-vdab writable"), "");
}

}  // namespace
}  // namespace kbix::test

namespace kbix::test {
namespace {

TEST(DryRun, CountsTheExtractLikeARealRunAndChangesNothing) {
  ExchangeWorld world("e2e-dry-run");
  const auto extract = world.generate_extract(300, 71, "--invalid-rate 0.05 --duplicate-rate 0.04");
  const std::string before = read_file(extract);
  const auto dry = world.kbix("run start --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_EQ(read_file(extract), before) << "the extract stays, unchanged";
  EXPECT_FALSE(fs::exists(world.state_dir() / "runs.sqlite3")) << "no run database made";
  EXPECT_FALSE(fs::exists(world.state_dir() / "audit")) << "no audit log made";
  EXPECT_TRUE(ExchangeWorld::files_under(world.sshd().sftp_root()).empty()) << "nothing sent";

  // The same counts as the validation of a real run over the same file.
  {
    SimulatorThread partner(world);
    ASSERT_EQ(world.kbix("run once --start --wait 60").exit_code, 0);
  }
  auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
  ASSERT_TRUE(store);
  const auto facts = store->list()->front().facts["export"];
  const std::string expected = "rows " + std::to_string(facts["rows"].get<int>()) + ", valid " +
                               std::to_string(facts["exported"].get<int>()) + ", invalid " +
                               std::to_string(facts["invalid_insz"].get<int>()) + ", duplicate " +
                               std::to_string(facts["duplicate_insz"].get<int>());
  EXPECT_NE(dry.output.find(expected), std::string::npos)
      << dry.output << "\nexpected " << expected;
  const auto lines = std::count(before.begin(), before.end(), '\n');
  EXPECT_EQ(facts["rows"].get<int>(), lines - 1) << "every data row of the file";
  EXPECT_GT(facts["invalid_insz"].get<int>(), 0);
  EXPECT_GT(facts["duplicate_insz"].get<int>(), 0);
}

}  // namespace
}  // namespace kbix::test
