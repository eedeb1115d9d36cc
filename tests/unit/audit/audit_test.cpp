// The audit chain: any edit, deletion, reorder, duplication or truncation is found at the right
// line; checkpoints signed by another key fail; torn tails, rotation and the privacy guard.
#include "kbix/audit/audit.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kbix/audit/audit_verify.hpp"
#include "support/temp_dir.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;
const fs::path kKeys = KBIX_ENVELOPE_TEST_KEYS;

AuditSettings options_in(const fs::path& dir, const std::string& signer = "agii-sign-rsa") {
  AuditSettings options;
  options.checkpoint_journal = false;  // a test's checkpoints stay out of the system journal
  options.directory = dir;
  options.checkpoint_every = 100;
  options.signing_key = kKeys / (signer + ".key");
  options.signing_certificate = kKeys / (signer + ".crt");
  return options;
}

void write_entries(AuditLog& log, int count, int first = 1) {
  for (int i = first; i < first + count; ++i) {
    AuditEvent event{"20261122T135500Z-3f9a",
                     AuditActor{"alice", 1000},
                     "run.upload",
                     {{"index", i}, {"bytes", 1234 + i}, {"file", "naar-vdab/x_é.csv.p7m"}}};
    ASSERT_TRUE(log.append(event));
  }
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
void write(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
  return lines;
}
std::string join(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line;
  return text;
}

class AuditChain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::make_temp_dir("kbix-audit");
    auto log = AuditLog::open(options_in(dir_));
    ASSERT_TRUE(log) << log.error().describe();
    write_entries(*log, 999);  // + the open checkpoint has no entry: 999 entries
    ASSERT_TRUE(log->append(AuditEvent{"", scheduler_actor(), "daemon.stop", {}}));
    ASSERT_TRUE(log->close());
    original_ = read(dir_ / "audit.jsonl");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void TearDown() override { write(dir_ / "audit.jsonl", original_); }

  AuditVerifyReport verify(const fs::path& certificate = kKeys / "agii-sign-rsa.crt") {
    AuditVerifyOptions options;
    options.directory = dir_;
    options.certificate = certificate;
    return verify_audit(options);
  }

  static fs::path dir_;
  static std::string original_;
};
fs::path AuditChain::dir_;
std::string AuditChain::original_;

TEST_F(AuditChain, AnIntactLogOfAThousandEntriesVerifies) {
  const auto report = verify();
  EXPECT_TRUE(report.ok) << report.first_problem;
  EXPECT_EQ(report.entries, 1000u);
  EXPECT_GE(report.checkpoints, 10u);
}

TEST_F(AuditChain, ChangingAnyByteOfAnyEntryFailsAtThatLine) {
  const auto lines = lines_of(original_);
  ASSERT_EQ(lines.size(), 1000u);
  auto flip_and_check = [&](std::size_t entry, std::size_t position) {
    auto changed = lines;
    changed[entry][position] = static_cast<char>(changed[entry][position] ^ 0x01);
    write(dir_ / "audit.jsonl", join(changed));
    const auto report = verify();
    EXPECT_FALSE(report.ok) << "entry " << entry + 1 << " byte " << position;
    EXPECT_EQ(report.bad_line, entry + 1) << "byte " << position << ": " << report.first_problem;
  };
  for (std::size_t entry = 0; entry < lines.size(); ++entry) {
    flip_and_check(entry, (entry * 7) % lines[entry].size());  // one byte of every entry
  }
  for (std::size_t entry : {0u, 1u, 499u, 998u}) {  // every byte of a sample
    for (std::size_t position = 0; position < lines[entry].size(); ++position) {
      flip_and_check(entry, position);
    }
  }
}

TEST_F(AuditChain, DeletingSwappingOrDuplicatingAnEntryFailsAtTheRightLine) {
  auto lines = lines_of(original_);
  auto deleted = lines;
  deleted.erase(deleted.begin() + 500);
  write(dir_ / "audit.jsonl", join(deleted));
  auto report = verify();
  EXPECT_EQ(report.error_code, "audit.sequence_gap");
  EXPECT_EQ(report.bad_line, 501u);

  auto swapped = lines;
  std::swap(swapped[300], swapped[301]);
  write(dir_ / "audit.jsonl", join(swapped));
  report = verify();
  EXPECT_EQ(report.error_code, "audit.sequence_gap");
  EXPECT_EQ(report.bad_line, 301u);

  auto duplicated = lines;
  duplicated.insert(duplicated.begin() + 700, lines[699]);
  write(dir_ / "audit.jsonl", join(duplicated));
  report = verify();
  EXPECT_EQ(report.error_code, "audit.sequence_gap");
  EXPECT_EQ(report.bad_line, 701u);
}

TEST_F(AuditChain, CuttingTheTailIsFoundAgainstTheLastCheckpoint) {
  auto lines = lines_of(original_);
  lines.resize(950);
  write(dir_ / "audit.jsonl", join(lines));
  const auto report = verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.truncated") << report.first_problem;
}

TEST_F(AuditChain, ATornFinalLineIsReportedAsSuch) {
  write(dir_ / "audit.jsonl", original_ + "{\"seq\":1001,\"ti");
  const auto report = verify();
  EXPECT_EQ(report.error_code, "audit.torn_tail");
  EXPECT_EQ(report.bad_line, 1001u);
}

TEST_F(AuditChain, CheckpointsSignedByAnotherKeyFail) {
  const auto report = verify(kKeys / "vdab-sign-rsa.crt");
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.error_code, "audit.bad_checkpoint_signature");
}

TEST(AuditLogWriter, ResumesAfterReopenAndRecoversATornTailLoudly) {
  const fs::path dir = test::make_temp_dir("kbix-audit-reopen");
  {
    auto log = AuditLog::open(options_in(dir, "agii-sign-ec"));
    ASSERT_TRUE(log);
    write_entries(*log, 5);
    ASSERT_TRUE(log->close());
  }
  std::ofstream(dir / "audit.jsonl", std::ios::app) << "{\"seq\":6,\"half";
  {
    auto log = AuditLog::open(options_in(dir, "agii-sign-ec"));
    ASSERT_TRUE(log) << log.error().describe();
    EXPECT_EQ(log->next_sequence(), 7u) << "the torn_tail entry took seq 6";
    write_entries(*log, 3, 100);
    ASSERT_TRUE(log->close());
  }
  AuditVerifyOptions options;
  options.directory = dir;
  options.certificate = kKeys / "agii-sign-ec.crt";
  const auto report = verify_audit(options);
  EXPECT_TRUE(report.ok) << report.first_problem;
  EXPECT_EQ(report.entries, 9u);
  bool moved_aside = false;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".torn-") != std::string::npos) {
      moved_aside = read(entry.path()) == "{\"seq\":6,\"half";
    }
  }
  EXPECT_TRUE(moved_aside) << "the torn bytes are kept, not dropped";
  EXPECT_NE(format_entries(options, std::nullopt).find("audit.torn_tail"), std::string::npos);
  fs::remove_all(dir);
}

TEST(AuditShow, PrintsFieldsOfTheWrongTypeAsQuestionMarksInsteadOfThrowing) {
  // Found by the audit_verify fuzzer: a tampered log must still be shown, line by line.
  const fs::path dir = test::make_temp_dir("kbix-audit-show-types");
  std::ofstream(dir / "audit.jsonl")
      << "{\"seq\":\"one\",\"time\":7,\"actor\":5,\"event\":[],\"run_id\":3}\n"
      << "{\"seq\":2,\"time\":\"t\",\"actor\":{\"name\":1,\"uid\":\"x\"},\"event\":\"e\"}\n"
      << "not json\n"
      << "{\"seq\":4,\"time\":\"t\",\"actor\":{\"name\":\"scheduler\",\"uid\":null},\"event\":"
         "\"e\"}\n"
      << "{\"seq\":5,\"time\":\"t\",\"actor\":{\"name\":\"ops\",\"uid\":1000},\"event\":\"e\"}\n";
  AuditVerifyOptions options;
  options.directory = dir;
  std::string shown;
  ASSERT_NO_THROW(shown = format_entries(options, std::nullopt));
  EXPECT_EQ(shown,
            "?  ?  ?  ?  run ?\n2  t  ?(?)  e\n(unreadable line in audit.jsonl)\n"
            "4  t  scheduler  e\n5  t  ops(1000)  e\n")
      << "well-formed entries read as before: the scheduler has no uid, an operator has one";
  EXPECT_FALSE(verify_audit(options).ok);
  fs::remove_all(dir);
}

TEST(AuditLogWriter, RotationKeepsTheChainAcrossFiles) {
  const fs::path dir = test::make_temp_dir("kbix-audit-rotate");
  auto options = options_in(dir);
  options.rotate_bytes = 4096;
  {
    auto log = AuditLog::open(options);
    ASSERT_TRUE(log);
    write_entries(*log, 60);
    ASSERT_TRUE(log->close());
  }
  const auto files = audit_log_files(dir);
  EXPECT_GE(files.size(), 3u);
  AuditVerifyOptions verify;
  verify.directory = dir;
  verify.certificate = options.signing_certificate;
  const auto report = verify_audit(verify);
  EXPECT_TRUE(report.ok) << report.first_problem;
  EXPECT_EQ(report.entries, 60u);
  fs::remove(files[1]);  // a whole middle file deleted
  EXPECT_FALSE(verify_audit(verify).ok);
  fs::remove_all(dir);
}

TEST(AuditLogWriter, RefusesDetailsThatLookPersonalOrAreNotCanonical) {
  const fs::path dir = test::make_temp_dir("kbix-audit-guard");
  auto log = AuditLog::open(options_in(dir));
  ASSERT_TRUE(log);
  auto personal = log->append(AuditEvent{"", scheduler_actor(), "x", {{"note", "85073003328"}}});
  EXPECT_EQ(personal.error().code, "audit.personal_value");
  auto nested =
      log->append(AuditEvent{"", scheduler_actor(), "x", {{"list", {"ok", "85.07.30-033.28"}}}});
  EXPECT_EQ(nested.error().code, "audit.personal_value");
  // The same rule as the output scan (issue 13 item 10): glued or inside a digit run still counts,
  // while a SHA-256 that happens to hold a passing window is a hash, not an INSZ.
  for (const char* glued : {"BE85073003328", "insz85073003328", "1285073003328"}) {
    auto refused = log->append(AuditEvent{"", scheduler_actor(), "x", {{"note", glued}}});
    EXPECT_EQ(refused.error().code, "audit.personal_value") << glued;
  }
  EXPECT_TRUE(log->append(AuditEvent{
      "",
      scheduler_actor(),
      "x",
      {{"sha256", "ab85073003328cdeab85073003328cdeab85073003328cdeab85073003328cde"}}}));
  auto floating = log->append(AuditEvent{"", scheduler_actor(), "x", {{"ratio", 0.5}}});
  EXPECT_EQ(floating.error().code, "audit.float");
  EXPECT_TRUE(log->append(AuditEvent{
      "", scheduler_actor(), "x", {{"sha256", std::string(64, 'a')}, {"bytes", 85073003328}}}))
      << "hashes and byte counts are fine";
  ASSERT_TRUE(log->close());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kbix
