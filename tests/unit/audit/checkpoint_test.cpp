// Truncation of the audit log (invariant 9, issue 13 item 6): checkpoints form their own chain,
// a missing or shortened checkpoint file is found, the writer refuses to write on a cut log, and
// a consistent cut of the log and its checkpoints is found against the copy kept elsewhere,
// naming the first missing entry.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kbix/audit/audit.hpp"
#include "kbix/audit/audit_verify.hpp"
#include "kbix/core/digest.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;
const fs::path kKeys = KBIX_ENVELOPE_TEST_KEYS;

std::vector<std::string> lines_in(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const fs::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  for (const auto& line : lines) out << line << "\n";
}

std::uint64_t seq_of(const std::string& line) {
  return nlohmann::json::parse(line)["seq"].get<std::uint64_t>();
}

class AuditTruncation : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("kbix-audit-cut");
    copy_dir_ = test::make_temp_dir("kbix-audit-copy");
    auto log = AuditLog::open(options());
    ASSERT_TRUE(log) << log.error().describe();
    for (int i = 1; i <= 350; ++i) {
      ASSERT_TRUE(
          log->append(AuditEvent{"", AuditActor{"alice", 1000}, "test.event", {{"index", i}}}));
    }
    ASSERT_TRUE(log->close());
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(copy_dir_);
  }

  AuditSettings options() const {
    AuditSettings options;
    options.checkpoint_journal = false;  // a test's checkpoints stay out of the system journal
    options.directory = dir_;
    options.checkpoint_every = 100;
    options.signing_key = kKeys / "agii-sign-rsa.key";
    options.signing_certificate = kKeys / "agii-sign-rsa.crt";
    options.checkpoint_copy = copy_file();
    return options;
  }
  fs::path copy_file() const { return copy_dir_ / "checkpoints.jsonl"; }
  fs::path log_file() const { return dir_ / "audit.jsonl"; }
  fs::path checkpoint_file() const { return dir_ / "checkpoints.jsonl"; }

  AuditVerifyReport verify(bool against = false) const {
    AuditVerifyOptions verify;
    verify.directory = dir_;
    verify.certificate = kKeys / "agii-sign-rsa.crt";
    verify.checkpoint_every = 100;
    if (against) verify.against_file = copy_file();
    return verify_audit(verify);
  }

  // What someone who can write the state directory does: keeps entries 1..last and every
  // checkpoint that covers no more than that, so both local files agree.
  void cut_consistently(std::uint64_t last) {
    auto entries = lines_in(log_file());
    entries.resize(last);
    write_lines(log_file(), entries);
    std::vector<std::string> kept;
    for (const auto& line : lines_in(checkpoint_file())) {
      if (seq_of(line) <= last) kept.push_back(line);
    }
    write_lines(checkpoint_file(), kept);
  }

  fs::path dir_;
  fs::path copy_dir_;
};

TEST_F(AuditTruncation, CheckpointsNameTheirPredecessorAndAreCopiedOutside) {
  const auto local = lines_in(checkpoint_file());
  ASSERT_EQ(local.size(), 5u) << "open, 100, 200, 300, close";
  std::string previous(64, '0');
  for (const auto& line : local) {
    EXPECT_EQ(nlohmann::json::parse(line)["prev_checkpoint"], previous) << line;
    previous = sha256_hex(line);
  }
  EXPECT_EQ(lines_in(copy_file()), local) << "the copy holds every checkpoint, byte for byte";
  const auto report = verify(true);
  EXPECT_TRUE(report.ok) << report.first_problem;
  EXPECT_EQ(report.copy_checkpoints, 5u);
}

TEST_F(AuditTruncation, ADeletedOrEmptiedCheckpointFileIsFound) {
  fs::remove(checkpoint_file());
  auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.checkpoints_missing") << report.first_problem;
  write_lines(checkpoint_file(), {});
  report = verify();
  EXPECT_EQ(report.error_code, "audit.checkpoints_missing") << report.first_problem;
}

TEST_F(AuditTruncation, ADeletedCheckpointInTheMiddleBreaksTheirChain) {
  auto checkpoints = lines_in(checkpoint_file());
  checkpoints.erase(checkpoints.begin() + 2);
  write_lines(checkpoint_file(), checkpoints);
  const auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.checkpoint_chain") << report.first_problem;
  EXPECT_EQ(report.bad_line, 3u);
}

TEST_F(AuditTruncation, ShortenedCheckpointsWithAWholeLogAreFound) {
  auto checkpoints = lines_in(checkpoint_file());
  checkpoints.resize(2);  // open and 100: 250 entries past the last one
  write_lines(checkpoint_file(), checkpoints);
  const auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.checkpoints_truncated") << report.first_problem;
}

TEST_F(AuditTruncation, AConsistentCutIsFoundAgainstTheCopyWhichNamesTheFirstMissingEntry) {
  cut_consistently(150);
  const auto local = verify();
  EXPECT_TRUE(local.ok) << "what stays undetectable locally (docs/audit-log.md): "
                        << local.first_problem;
  const auto report = verify(true);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.truncated") << report.first_problem;
  EXPECT_EQ(report.first_missing_seq, 151u);
  EXPECT_NE(report.first_problem.find("first missing entry is 151"), std::string::npos)
      << report.first_problem;
}

TEST_F(AuditTruncation, TheWriterRefusesToWriteOnACutLogOrWithoutItsCheckpoints) {
  auto entries = lines_in(log_file());
  entries.resize(150);
  write_lines(log_file(), entries);
  auto reopened = AuditLog::open(options());
  ASSERT_FALSE(reopened) << "a fresh checkpoint over the shortened chain would hide the cut";
  EXPECT_EQ(reopened.error().code, "audit.truncated");
  EXPECT_NE(reopened.error().message.find("ends at entry 150"), std::string::npos)
      << reopened.error().message;
  EXPECT_EQ(lines_in(log_file()).size(), 150u) << "nothing was written";

  fs::remove(checkpoint_file());
  reopened = AuditLog::open(options());
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, "audit.checkpoints_missing");
}

TEST_F(AuditTruncation, AfterAConsistentCutTheResumedWriterIsStillCaughtByTheCopy) {
  cut_consistently(200);
  {
    auto resumed = AuditLog::open(options());
    ASSERT_TRUE(resumed) << resumed.error().describe();
    for (int i = 0; i < 120; ++i) {
      ASSERT_TRUE(resumed->append(AuditEvent{"", AuditActor{"mallory", 0}, "test.event", {}}));
    }
    ASSERT_TRUE(resumed->close());
  }
  EXPECT_TRUE(verify().ok) << "the local files are consistent again";
  const auto report = verify(true);
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.checkpoint_mismatch") << report.first_problem;
  EXPECT_EQ(report.first_missing_seq, 300u) << report.first_problem;
}

}  // namespace
}  // namespace kbix
