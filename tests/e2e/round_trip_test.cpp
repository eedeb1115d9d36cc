// End-to-end: the real kbix binary, a real sshd on 127.0.0.1 and the partner simulator play a
// whole VDAB round trip (issue 6 "What it must show"; invariants 1-5, 8-10, 12).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/e2e_support.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/protocol.hpp"
#include "kbix/runs/run_store.hpp"
#include "kbix/sftp/remote_name.hpp"
#include "support/article3.hpp"
#include "support/independent_insz.hpp"

namespace kbix::test {
namespace {

namespace fs = std::filesystem;

// The export's counts, computed here independently of kbix's insz module
// (support/independent_insz.hpp): an INSZ cell is its digits once `.`, `-` and ` ` are dropped.
struct IndependentCounts {
  std::uint64_t rows = 0, invalid = 0, duplicate = 0, exported = 0;
};

IndependentCounts count_extract_independently(const fs::path& extract) {
  IndependentCounts counts;
  std::set<std::string> seen;
  const auto lines = read_lines(extract);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    ++counts.rows;
    std::string digits;
    for (const char c : lines[i].substr(0, lines[i].find(';'))) {
      if (c != '.' && c != '-' && c != ' ') digits += c;
    }
    if (!independently_valid_insz(digits)) {
      ++counts.invalid;
    } else if (!seen.insert(digits).second) {
      ++counts.duplicate;
    } else {
      ++counts.exported;
    }
  }
  return counts;
}

TEST(RoundTrip, DaemonCompletesAFullExchange) {
  ExchangeWorld world("e2e-daemon");
  const auto independent = count_extract_independently(
      world.generate_extract(500, 3, "--invalid-rate 0.02 --duplicate-rate 0.02"));
  ASSERT_GT(independent.invalid, 0u);
  ASSERT_GT(independent.duplicate, 0u);
  Daemon daemon(world);

  const auto started = world.kbix("run start");
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const nlohmann::json run = wait_for_final_state(world, &daemon);
  ASSERT_EQ(run.value("state", ""), "done") << run.dump(2);
  const std::string run_id = run.value("id", "");

  // Output: the 25 columns of article 3 (no insz), counts as counted independently (inv. 4).
  const fs::path output = world.output_dir() / ("vdab-derde-pijler-2023_" + run_id + ".csv");
  const auto lines = read_lines(output);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), kArticle3OutputHeader);
  EXPECT_EQ(lines.front().find("insz"), std::string::npos);
  const auto manifest =
      read_json(world.output_dir() / ("vdab-derde-pijler-2023_" + run_id + ".manifest.json"));
  EXPECT_NE(manifest.dump().find(*sha256_file_hex(output)), std::string::npos)
      << "the manifest names the output's SHA-256";
  const auto& facts = run["facts"];
  EXPECT_EQ(facts["merge"]["output_rows"].get<std::uint64_t>(), lines.size() - 1);
  EXPECT_EQ(facts["export"]["rows"].get<std::uint64_t>(), independent.rows);
  EXPECT_EQ(facts["export"]["invalid_insz"].get<std::uint64_t>(), independent.invalid);
  EXPECT_EQ(facts["export"]["duplicate_insz"].get<std::uint64_t>(), independent.duplicate);
  EXPECT_EQ(facts["export"]["exported"].get<std::uint64_t>(), independent.exported);
  EXPECT_EQ(facts["merge"]["sent"].get<std::uint64_t>(),
            facts["export"]["exported"].get<std::uint64_t>());
  EXPECT_LT(facts["merge"]["matched"].get<std::uint64_t>(),
            facts["merge"]["sent"].get<std::uint64_t>())
      << "the simulator leaves some people unknown to VDAB";

  // Nothing left on the server (inv. 10), nothing readable in the state directory (inv. 10, 5).
  EXPECT_TRUE(files_under(world.sshd().sftp_root()).empty());

  // Exactly one upload and one publication, and the audit chain verifies (inv. 8, 9).
  EXPECT_EQ(count_audit_events(world, "run.upload"), 1u);
  EXPECT_EQ(count_audit_events(world, "run.published"), 1u);
  EXPECT_EQ(count_audit_events(world, "inbox.extract_removed"), 1u);
  const auto shown = world.kbix("audit show --run " + run_id);
  EXPECT_NE(shown.output.find(key_fingerprint(world.sshd().host_public_key()).substr(0, 20)),
            std::string::npos)
      << "sftp.connect names the pinned host key: " << shown.output;
  const auto verified = world.kbix("audit verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  EXPECT_EQ(daemon.stop(), 0) << "SIGTERM stops the daemon cleanly";
  const auto offline = world.kbix("status");
  EXPECT_EQ(offline.exit_code, 0) << offline.output;
  EXPECT_NE(offline.output.find("daemon is not running"), std::string::npos) << offline.output;
  EXPECT_NE(offline.output.find(run_id + "  done"), std::string::npos) << offline.output;
  expect_no_plaintext_left(world, published_files(run_id));  // daemon.log included
}

TEST(RoundTrip, JoinsEachReturnedPersonWithTheirOwnProfile) {
  // With keyed pseudonyms the test can map each output row back to the person it belongs to.
  const fs::path protocol_file = hmac_protocol_copy();
  ExchangeWorld world("e2e-join", protocol_file);
  const fs::path key = world.dir() / "pseudonym.key";
  write_random_key(key);
  world.write_config("gcm", "pseudonym_key_file = \"" + key.string() + "\"\n");
  const fs::path extract = world.generate_extract(300, 9);
  const auto extract_lines = read_lines(extract);

  SimulatorThread partner(world);
  const auto once = world.kbix("run once --start --wait 60");
  ASSERT_EQ(once.exit_code, 0) << once.output;
  const auto outputs = files_with_suffix(world.output_dir(), ".csv");
  ASSERT_EQ(outputs.size(), 1u);
  expect_rows_joined_to_their_own_profile(extract_lines, read_lines(outputs.front()), key);
  expect_no_plaintext_left(world, published_files(newest_run_id(world)));
}

// After a crash and a restart: one publication, the partner got one file, the output is the one
// an uninterrupted run makes, nothing left on the server or in plaintext, the audit intact.
// Uploads and renames are counted from the SFTP server's own log, not from kbix's audit log:
// `files_written` files were opened for writing in naar-vdab (2 when a half-done upload was
// redone), and exactly one was renamed to its final name.
void expect_finished_exactly_once(ExchangeWorld& world, const SimulatorThread& partner,
                                  std::uint64_t upload_events = 1,
                                  std::uint64_t files_written = 1) {
  EXPECT_EQ(world.sshd().files_written_in("naar-vdab"), files_written)
      << "uploads as the server saw them: " << read_file(world.sshd().sftp_log());
  EXPECT_EQ(world.sshd().renames_in("naar-vdab"), 1u) << "one file reached its final name";
  EXPECT_EQ(count_audit_events(world, "run.upload"), upload_events);
  EXPECT_EQ(count_audit_events(world, "run.published"), 1u);
  // every step of the run is in the audit log, however the crash fell (inv. 9)
  for (const char* event :
       {"run.extract_sealed", "run.outbound_sealed", "run.awaiting_return", "run.download",
        "run.return_verified", "run.merged", "run.cleaned", "run.done"}) {
    EXPECT_GE(count_audit_events(world, event), 1u) << event << " is missing from the audit log";
  }
  EXPECT_EQ(
      count_audit_events(world, "run.upload") + count_audit_events(world, "run.upload_confirmed"),
      1u)
      << "the upload is audited once";
  EXPECT_EQ(partner.files_received(), 1u) << "the partner received exactly one file";
  const auto outputs = files_with_suffix(world.output_dir(), ".csv");
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(read_file(outputs.front()), reference_output(120, 21));
  EXPECT_TRUE(files_under(world.sshd().sftp_root()).empty());
  expect_no_plaintext_left(world, published_files(newest_run_id(world)));
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

// Crash at every state transition (inv. 8): killed with SIGKILL right after committing a state
// and started again, the run finishes with one upload, one publication and the same output.
class CrashAfterState : public ::testing::TestWithParam<std::string> {};

TEST_P(CrashAfterState, RestartFinishesWithOneUploadOnePublicationSameOutput) {
  ExchangeWorld world("e2e-crash");
  world.generate_extract(120, 21);
  SimulatorThread partner(world);

  const auto killed =
      world.kbix("run once --start --wait 60", "KBIX_TEST_KILL_AFTER=" + GetParam());
  ASSERT_TRUE(killed.killed_by_sigkill()) << "exit " << killed.exit_code << ": " << killed.output;
  const auto resumed = world.kbix("run once --wait 60");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(" done since"), std::string::npos) << resumed.output;
  expect_finished_exactly_once(world, partner);
}

// The same through the daemon: killed after a state, started again, it finishes the run.
class DaemonCrashAfterState : public ::testing::TestWithParam<std::string> {};

TEST_P(DaemonCrashAfterState, RestartedDaemonFinishesWithOneUploadOnePublicationSameOutput) {
  ExchangeWorld world("e2e-daemon-crash");
  world.generate_extract(120, 21);
  SimulatorThread partner(world);
  ::setenv("KBIX_TEST_KILL_AFTER", GetParam().c_str(), 1);
  Daemon first(world);
  ::unsetenv("KBIX_TEST_KILL_AFTER");
  ASSERT_EQ(world.kbix("run start").exit_code, 0);
  EXPECT_TRUE(first.wait_killed_by_sigkill())
      << "the test hook killed the daemon after " << GetParam();
  Daemon second(world);
  const auto run = wait_for_final_state(world, &second, /*play_partner=*/false);
  EXPECT_EQ(run.value("state", ""), "done") << run.dump(2);
  EXPECT_EQ(second.stop(), 0);
  expect_finished_exactly_once(world, partner);
}

// The upload's own crash windows (inv. 8). Killed after the rename and before `uploaded` is
// committed, while the partner has taken the file and not answered yet: the restart must not send
// the file again. Killed before the rename: the temporary file is removed and the upload redone.
// Starts a run of 120 people that the test hook kills at `point` inside the upload step; returns
// what is then in the partner's inbox.
std::vector<fs::path> start_run_killed_in_upload(ExchangeWorld& world, const std::string& point) {
  world.generate_extract(120, 21);
  const auto killed = world.kbix("run once --start", "KBIX_TEST_KILL_AFTER=" + point);
  EXPECT_TRUE(killed.killed_by_sigkill()) << "exit " << killed.exit_code << ": " << killed.output;
  return files_under(world.sshd().sftp_root() / "naar-vdab");
}

TEST(UploadCrash, KilledAfterTheRenameWhileThePartnerHoldsTheFileSendsNothingTwice) {
  ExchangeWorld world("e2e-crash-renamed");
  const auto sent = start_run_killed_in_upload(world, "upload_renamed");
  const fs::path inbox = world.sshd().sftp_root() / "naar-vdab";
  ASSERT_EQ(sent.size(), 1u) << "the final name is on the server";
  const fs::path held = world.state_dir().parent_path() / "held-by-the-partner.p7m";
  fs::rename(sent.front(), held);  // the partner took the file and is still working on it

  const auto resumed = world.kbix("run once");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("awaiting_return"), std::string::npos) << resumed.output;
  EXPECT_TRUE(files_under(inbox).empty()) << "the file was sent a second time";
  EXPECT_EQ(count_audit_events(world, "run.upload"), 0u);
  EXPECT_EQ(count_audit_events(world, "run.upload_confirmed"), 1u);

  fs::rename(held, sent.front());  // the partner answers
  SimulatorThread partner(world);
  const auto finished = world.kbix("run once --wait 60");
  EXPECT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_NE(finished.output.find(" done since"), std::string::npos) << finished.output;
  expect_finished_exactly_once(world, partner, /*upload_events=*/0);
}

TEST(UploadCrash, KilledBeforeTheRenameRemovesTheTemporaryFileAndUploadsOnce) {
  ExchangeWorld world("e2e-crash-renaming");
  const auto left = start_run_killed_in_upload(world, "upload_renaming");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(is_temporary_upload_name(left.front().filename().string())) << left.front();

  SimulatorThread partner(world);
  const auto finished = world.kbix("run once --wait 60");
  EXPECT_EQ(finished.exit_code, 0) << finished.output;
  EXPECT_NE(finished.output.find(" done since"), std::string::npos) << finished.output;
  // the temporary file is gone too; the server saw two files written, one renamed
  expect_finished_exactly_once(world, partner, /*upload_events=*/1, /*files_written=*/2);
}

TEST(UploadCrash, ACancelledRunKilledBeforeTheRenameLeavesNothingOnTheServer) {
  ExchangeWorld world("e2e-crash-cancel");
  ASSERT_EQ(start_run_killed_in_upload(world, "upload_renaming").size(), 1u);
  {
    auto store = RunStore::open(world.state_dir() / "runs.sqlite3");
    ASSERT_TRUE(store) << store.error().describe();
    auto runs = store->list();
    ASSERT_TRUE(runs && runs->size() == 1u);
    ASSERT_TRUE(store->cancel(runs->front().id, "operator gave up"));
  }
  const auto cleaned = world.kbix("run once");
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.output;
  EXPECT_TRUE(files_under(world.sshd().sftp_root()).empty())
      << "the cancelled run's temporary file is removed from the partner's server";
  EXPECT_EQ(count_audit_events(world, "remote.delete"), 1u);
  EXPECT_EQ(world.kbix("audit verify").exit_code, 0);
}

// Killed in the merge step while the plaintexts of the snapshot and of the return are both open
// (inv. 10): they live in anonymous memory only, so nothing of them is on disk after the kill,
// not even in work/; the restart opens both again and finishes the run once.
TEST(MergeCrash, KilledWithBothPlaintextsOpenLeavesNoneOnDiskAndFinishes) {
  ExchangeWorld world("e2e-crash-merge-opened");
  world.generate_extract(120, 21);
  SimulatorThread partner(world);
  const auto killed = world.kbix("run once --start --wait 60", "KBIX_TEST_KILL_AFTER=merge_opened");
  ASSERT_TRUE(killed.killed_by_sigkill()) << "exit " << killed.exit_code << ": " << killed.output;
  for (const auto& file : files_under(world.state_dir())) {
    EXPECT_FALSE(file.filename().string().ends_with(".csv")) << "plaintext on disk: " << file;
    EXPECT_EQ(file.string().find("/work/"), std::string::npos) << "work file on disk: " << file;
  }
  ASSERT_TRUE(world.knows_personal_numbers());
  const auto found = world.personal_data_found();
  EXPECT_TRUE(found.empty()) << found.size() << " INSZ on disk, first: " << found.front();

  const auto resumed = world.kbix("run once --wait 60");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(" done since"), std::string::npos) << resumed.output;
  expect_finished_exactly_once(world, partner);
}

// Killed in the merge step after the output was written where it is published, before the merge
// committed: the output waits under a hidden name only kbix may read (0600), the restart removes
// it (the merge never committed, so nothing of it counts) and merges again, and the one file
// published is readable by the output folder's group (0640) with no hidden file left beside it.
TEST(MergeCrash, KilledWithTheOutputWrittenLeavesItPendingAndPrivateAndPublishesOnce) {
  ExchangeWorld world("e2e-crash-merge-written");
  world.generate_extract(120, 21);
  SimulatorThread partner(world);
  const auto killed =
      world.kbix("run once --start --wait 60", "KBIX_TEST_KILL_AFTER=merge_written");
  ASSERT_TRUE(killed.killed_by_sigkill()) << "exit " << killed.exit_code << ": " << killed.output;
  const auto waiting = files_under(world.output_dir());
  ASSERT_EQ(waiting.size(), 1u) << "only the pending output, nothing published yet";
  const std::string pending_name = waiting.front().filename().string();
  EXPECT_TRUE(pending_name.starts_with(".") && pending_name.ends_with(".output.pending"))
      << pending_name;
  struct stat pending {};
  ASSERT_EQ(::stat(waiting.front().c_str(), &pending), 0);
  EXPECT_EQ(pending.st_mode & 0777, 0600u) << "the monitoring group cannot read it before";

  const auto resumed = world.kbix("run once --wait 60");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(" done since"), std::string::npos) << resumed.output;
  EXPECT_EQ(count_audit_events(world, "plaintext.wiped"), 1u) << "the restart removed it";
  EXPECT_EQ(count_audit_events(world, "run.merged"), 1u);
  expect_finished_exactly_once(world, partner);
  const auto outputs = files_with_suffix(world.output_dir(), ".csv");
  ASSERT_EQ(outputs.size(), 1u);
  struct stat published {};
  ASSERT_EQ(::stat(outputs.front().c_str(), &published), 0);
  EXPECT_EQ(published.st_mode & 0777, 0640u);
  for (const auto& file : files_under(world.output_dir())) {
    EXPECT_FALSE(file.filename().string().starts_with(".")) << "left behind: " << file;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryState, DaemonCrashAfterState,
                         ::testing::Values("extract_sealed", "outbound_sealed", "uploaded",
                                           "awaiting_return", "return_downloaded",
                                           "return_verified", "merged", "published", "cleaned",
                                           "done"));

INSTANTIATE_TEST_SUITE_P(EveryState, CrashAfterState,
                         ::testing::Values("extract_sealed", "outbound_sealed", "uploaded",
                                           "awaiting_return", "return_downloaded",
                                           "return_verified", "merged", "published", "cleaned",
                                           "done"));

// Killed after a state is committed and before its audit entry is appended, and between
// publishing the output and publishing its manifest (kill points in src/exchange).
INSTANTIATE_TEST_SUITE_P(BetweenCommitAndAudit, CrashAfterState,
                         ::testing::Values("extract_sealed_unaudited", "outbound_sealed_unaudited",
                                           "uploaded_unaudited", "awaiting_return_unaudited",
                                           "return_downloaded_unaudited",
                                           "return_verified_unaudited", "merged_unaudited",
                                           "published_unaudited", "cleaned_unaudited",
                                           "done_unaudited", "output_published"));

}  // namespace
}  // namespace kbix::test
