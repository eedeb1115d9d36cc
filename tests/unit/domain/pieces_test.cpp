// The two-thread reading in pieces (kbix/domain/file_pieces.hpp) against the sequential path:
// export, merge and scan must give the same bytes, the same reports and the same errors, for
// files with quoted line feeds, doubled quotes, CRLF, a byte-order mark and non-ASCII text,
// with pieces so small that every kind of record meets a piece boundary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/domain/pseudonym.hpp"
#include "scan_recorder.hpp"
#include "synthetic.hpp"

namespace kbix {
namespace {

namespace fs = std::filesystem;

Protocol shipped_protocol() {
  auto protocol = load_protocol(KBIX_SOURCE_DIR "/config/protocols/vdab-derde-pijler-2023.toml");
  EXPECT_TRUE(protocol);
  return *protocol;
}

std::string join(const std::vector<std::string>& fields, const char* end = "\n") {
  std::string line;
  for (const auto& field : fields) line += (line.empty() ? "" : ";") + field;
  return line + end;
}

std::string valid(std::uint64_t index) {
  return synthetic::make_insz(9, index, 0.0);
}

// Every shape the CSV reader accepts, spread over the rows.
std::string shaped(std::string value, std::uint64_t i) {
  switch (i % 9) {
    case 1:
      return "\"two\nlines; with \"\"quotes\"\"\"";
    case 3:
      return "=1+2";  // a formula: neutralised in the output
    case 4:
      return "caf\xc3\xa9";
    case 6:
      return "\"\"";  // a quoted empty field
    case 7:
      return "\"a\r\nb\"";
    default:
      return value;
  }
}

struct Exchange {
  std::string extract = "\xEF\xBB\xBF";  // a byte-order mark
  std::string vdab_return;
};

Exchange make_exchange(const Protocol& protocol, std::uint64_t people) {
  Exchange files;
  files.extract += join(protocol.extract_columns);
  for (std::uint64_t i = 0; i < people; ++i) {
    auto fields = synthetic::kbi_profile(5, i, 0.1);
    fields.insert(fields.begin(), i % 17 == 5 ? "12345678901" : valid(i % 41 == 7 ? i - 3 : i));
    fields[1 + i % 5] = shaped(fields[1 + i % 5], i);
    files.extract += join(fields, i % 4 == 0 ? "\r\n" : "\n");
  }
  files.vdab_return = join(protocol.return_columns);
  for (std::uint64_t k = 0; k < people; ++k) {
    const std::uint64_t i = (k * 7919) % people;             // a shuffled order
    if (i % 17 == 5 || i % 41 == 7 || i % 3 == 0) continue;  // invalid, repeated, unknown
    auto fields = *synthetic::vdab_fields(3, valid(i), 0.0, 0.1);
    fields.insert(fields.begin(), valid(i));
    fields[1 + i % 3] = shaped(fields[1 + i % 3], i);
    files.vdab_return += join(fields, i % 5 == 0 ? "\r\n" : "\n");
  }
  return files;
}

// A file in a private directory, open for the pieces and as a stream for the sequential path.
class File {
 public:
  File(const fs::path& dir, const std::string& name, const std::string& content)
      : path_(dir / name) {
    std::ofstream(path_, std::ios::binary) << content;
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    stream_.open(path_, std::ios::binary);
  }
  ~File() { ::close(fd_); }
  int fd() const { return fd_; }
  std::istream& stream() { return stream_; }

 private:
  fs::path path_;
  int fd_ = -1;
  std::ifstream stream_;
};

class Pieces : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kbix-pieces-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static FileReading tiny(std::size_t piece_bytes) {
    FileReading reading;
    reading.piece_bytes = piece_bytes;
    reading.parallel_from = 1;
    reading.in_flight = 3;
    return reading;
  }
  fs::path dir_;
  const Protocol protocol_ = shipped_protocol();
};

template <class T>
std::string describe(const Result<T>& result) {
  return result ? std::string("ok") : result.error().code + " " + result.error().message;
}

std::string describe_export(const Result<ExportReport>& report) {
  if (!report) return describe(report);
  std::ostringstream text;
  text << report->rows << " " << report->exported << " " << report->invalid_insz << " "
       << report->duplicate_insz << " " << report->bis_insz << " " << report->calendar_warnings;
  for (auto line : report->invalid_lines) text << " i" << line;
  for (auto line : report->duplicate_lines) text << " d" << line;
  return text.str();
}

std::string describe_merge(const Result<MergeReport>& report) {
  if (!report) return describe(report);
  std::ostringstream text;
  text << report->snapshot_rows << " " << report->sent << " " << report->returned << " "
       << report->matched << " " << report->not_sent << " " << report->sent_missing_from_return
       << " " << report->output_rows;
  return text.str();
}

using Recorder = test::ScanRecorder;

// The scan of `text` with an observer, sequentially and in pieces: the same result, records and
// lines; with an observer that refuses the record `fail_at`, the same error.
void expect_same_observed(const fs::path& dir, const std::string& text, const FileReading& reading,
                          std::size_t fail_at = 0) {
  File output(dir, "observed.csv", text);
  std::istringstream sequential_text(text);
  Recorder sequential, pieces;
  sequential.fail_at = pieces.fail_at = fail_at;
  const auto scanned_sequential = scan_output(sequential_text, "output.csv", sequential);
  const auto scanned_pieces =
      scan_output(output.fd(), output.stream(), "output.csv", pieces, "insz", reading);
  ASSERT_EQ(describe(scanned_pieces), describe(scanned_sequential));
  EXPECT_EQ(pieces.records, sequential.records);
  EXPECT_EQ(pieces.lines, sequential.lines);
}

// Export, merge and scan of `files`, sequentially and in pieces: the same in every respect.
void expect_same_results(const fs::path& dir, const Protocol& protocol, const Exchange& files,
                         const FileReading& reading, const PseudonymKey* key = nullptr) {
  File extract(dir, "extract.csv", files.extract);
  File returned(dir, "return.csv", files.vdab_return);
  std::istringstream extract_text(files.extract), return_text(files.vdab_return);

  std::ostringstream outbound_sequential, outbound_pieces;
  const auto exported_sequential =
      export_outbound(extract_text, "extract.csv", protocol, outbound_sequential);
  const auto exported_pieces = export_outbound(extract.fd(), extract.stream(), "extract.csv",
                                               protocol, outbound_pieces, reading);
  EXPECT_EQ(describe_export(exported_pieces), describe_export(exported_sequential));
  if (exported_sequential) {
    EXPECT_EQ(outbound_pieces.str(), outbound_sequential.str());
  }

  extract_text.clear();
  extract_text.seekg(0);
  File snapshot(dir, "snapshot.csv", files.extract);
  std::ostringstream output_sequential, output_pieces;
  const auto merged_sequential = merge_and_pseudonymise(
      return_text, "return.csv", extract_text, "snapshot.csv", protocol, key, output_sequential);
  const auto merged_pieces = merge_and_pseudonymise(
      returned.fd(), returned.stream(), "return.csv", snapshot.fd(), snapshot.stream(),
      "snapshot.csv", protocol, key, output_pieces, reading);
  EXPECT_EQ(describe_merge(merged_pieces), describe_merge(merged_sequential));
  if (!merged_sequential) return;
  ASSERT_EQ(output_pieces.str(), output_sequential.str());

  File output(dir, "output.csv", output_sequential.str());
  std::istringstream output_text(output_sequential.str());
  const auto scanned_sequential = scan_output(output_text, "output.csv");
  const auto scanned_pieces =
      scan_output(output.fd(), output.stream(), "output.csv", "insz", reading);
  ASSERT_EQ(describe(scanned_pieces), describe(scanned_sequential));
  if (scanned_sequential) {
    EXPECT_EQ(scanned_pieces->rows, scanned_sequential->rows);
    EXPECT_EQ(scanned_pieces->cells, scanned_sequential->cells);
  }
  expect_same_observed(dir, output_sequential.str(), reading);
}

// The merge's own scan of what it writes (MergeOutputScan) against the scan of the file: the same
// output; when it says the output passed, the file's scan passes, with the same counts and the
// same records shown to the observer, on the same lines; when not, its observer holds nothing.
void expect_merge_scan_as_file_scan(const fs::path& dir, const Protocol& protocol,
                                    const Exchange& files, const FileReading& reading,
                                    std::size_t& passes, const PseudonymKey* key = nullptr,
                                    std::size_t observer_fails_at = 0) {
  File snapshot(dir, "snapshot-scanned.csv", files.extract);
  File returned(dir, "return-scanned.csv", files.vdab_return);
  std::ostringstream output;
  Recorder merge_observed;
  merge_observed.fail_at = observer_fails_at;
  MergeOutputScan merge_scan;
  merge_scan.observer = &merge_observed;
  const auto merged = merge_and_pseudonymise(returned.fd(), returned.stream(), "return.csv",
                                             snapshot.fd(), snapshot.stream(), "snapshot.csv",
                                             protocol, key, output, reading, nullptr, &merge_scan);
  std::istringstream return_text(files.vdab_return), extract_text(files.extract);
  std::ostringstream output_sequential;
  const auto merged_sequential = merge_and_pseudonymise(
      return_text, "return.csv", extract_text, "snapshot.csv", protocol, key, output_sequential);
  ASSERT_EQ(describe_merge(merged), describe_merge(merged_sequential));
  if (!merged || !merge_scan.passed) {
    EXPECT_FALSE(merged && merge_scan.passed);
    EXPECT_TRUE(merge_observed.records.empty());
    return;
  }
  ASSERT_EQ(output.str(), output_sequential.str());
  std::istringstream output_text(output.str());
  Recorder file_observed;
  const auto scanned = scan_output(output_text, "output.csv", file_observed);
  ASSERT_TRUE(scanned) << describe(scanned);
  ++passes;
  EXPECT_EQ(merge_scan.report.rows, scanned->rows);
  EXPECT_EQ(merge_scan.report.cells, scanned->cells);
  EXPECT_EQ(merge_observed.records, file_observed.records);
  EXPECT_EQ(merge_observed.lines, file_observed.lines);
}

TEST_F(Pieces, GiveTheSequentialResultForEveryPieceSize) {
  const auto files = make_exchange(protocol_, 600);
  std::size_t passes = 0;
  const std::vector<std::size_t> sizes = {1u, 7u, 64u, 300u, 4096u, 1u << 20};
  for (std::size_t piece_bytes : sizes) {
    SCOPED_TRACE("piece_bytes " + std::to_string(piece_bytes));
    expect_same_results(dir_, protocol_, files, tiny(piece_bytes));
    expect_merge_scan_as_file_scan(dir_, protocol_, files, tiny(piece_bytes), passes);
  }
  EXPECT_EQ(passes, sizes.size()) << "a clean output passes the merge's own scan";
}

// A number that passes the INSZ check in a snapshot cell reaches the output: the merge's scan does
// not pass it, and the file's scan then blocks it, naming where. An observer that refuses a
// record makes the merge's scan not pass too (the file's scan then gives its error).
TEST_F(Pieces, TheMergesScanPassesNothingTheFileScanBlocks) {
  auto files = make_exchange(protocol_, 300);
  std::size_t passes = 0;
  for (std::size_t fail_at : {std::size_t{1}, std::size_t{2}, std::size_t{150}}) {
    SCOPED_TRACE("observer fails at " + std::to_string(fail_at));
    expect_merge_scan_as_file_scan(dir_, protocol_, files, tiny(64), passes, nullptr, fail_at);
  }
  EXPECT_EQ(passes, 0u);
  // Person 1 is sent and returned; its first cell after the INSZ is a plain one.
  const std::string person = "\n" + valid(1) + ";";
  const std::size_t cell = files.extract.find(person);
  ASSERT_NE(cell, std::string::npos);
  files.extract.insert(cell + person.size(), "BE" + valid(2) + " ");
  for (std::size_t piece_bytes : {7u, 300u, 1u << 20}) {
    SCOPED_TRACE("piece_bytes " + std::to_string(piece_bytes));
    expect_merge_scan_as_file_scan(dir_, protocol_, files, tiny(piece_bytes), passes);
    File snapshot(dir_, "snapshot.csv", files.extract);
    File returned(dir_, "return.csv", files.vdab_return);
    std::ostringstream output;
    MergeOutputScan merge_scan;
    ASSERT_TRUE(merge_and_pseudonymise(returned.fd(), returned.stream(), "return.csv",
                                       snapshot.fd(), snapshot.stream(), "snapshot.csv", protocol_,
                                       nullptr, output, tiny(piece_bytes), nullptr, &merge_scan));
    EXPECT_FALSE(merge_scan.passed);
    std::istringstream output_text(output.str());
    const auto scanned = scan_output(output_text, "output.csv");
    ASSERT_FALSE(scanned);
    EXPECT_EQ(scanned.error().code, "scan.insz_found");
  }
  EXPECT_EQ(passes, 0u);
}

TEST_F(Pieces, GiveTheSequentialResultWithKeyedPseudonyms) {
  auto protocol = protocol_;
  protocol.pseudonym = PseudonymMode::hmac_sha256;
  const fs::path key_file = dir_ / "pseudonym.key";
  std::string bytes(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), 32);
  std::ofstream(key_file, std::ios::binary) << bytes;
  fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write);
  auto key = PseudonymKey::load(key_file);
  ASSERT_TRUE(key) << key.error().describe();
  const auto files = make_exchange(protocol, 400);
  expect_same_results(dir_, protocol, files, tiny(128), &*key);
  std::size_t passes = 0;
  expect_merge_scan_as_file_scan(dir_, protocol, files, tiny(128), passes, &*key);
  EXPECT_EQ(passes, 1u) << "a pseudo_id column passes the merge's own scan";
}

// A broken byte at many places: the pieces give the sequential error, word for word.
TEST_F(Pieces, GiveTheSequentialErrorWhereverTheFileBreaks) {
  const auto good = make_exchange(protocol_, 120);
  const std::vector<std::pair<const char*, std::function<void(std::string&, std::size_t)>>> breaks =
      {
          {"bare quote", [](std::string& s, std::size_t at) { s.insert(at, "x\"y"); }},
          {"opening quote", [](std::string& s, std::size_t at) { s.insert(at, "\""); }},
          {"NUL", [](std::string& s, std::size_t at) { s.insert(at, 1, '\0'); }},
          {"bare CR", [](std::string& s, std::size_t at) { s.insert(at, "\r"); }},
          {"bad UTF-8", [](std::string& s, std::size_t at) { s.insert(at, "\xC3("); }},
          {"extra field", [](std::string& s, std::size_t at) { s.insert(at, ";"); }},
          {"line feed", [](std::string& s, std::size_t at) { s.insert(at, "\n"); }},
      };
  std::size_t failures = 0;
  for (const auto& [what, apply] : breaks) {
    for (std::size_t at = 0; at < good.vdab_return.size(); at += 997) {
      SCOPED_TRACE(std::string(what) + " at " + std::to_string(at));
      Exchange broken_extract = good, broken_return = good;
      apply(broken_extract.extract, at + 3);  // after the byte-order mark
      apply(broken_return.vdab_return, at);
      std::istringstream probe(broken_return.vdab_return), snapshot(good.extract);
      std::ostringstream ignored;
      if (!merge_and_pseudonymise(probe, "return.csv", snapshot, "snapshot.csv", protocol_, nullptr,
                                  ignored)) {
        ++failures;
      }
      expect_same_results(dir_, protocol_, broken_extract, tiny(50));
      expect_same_results(dir_, protocol_, broken_return, tiny(50));
      std::size_t passes = 0;
      expect_merge_scan_as_file_scan(dir_, protocol_, broken_extract, tiny(50), passes);
      expect_merge_scan_as_file_scan(dir_, protocol_, broken_return, tiny(50), passes);
    }
  }
  EXPECT_GT(failures, 20u) << "the breaks must make most returns fail";
}

TEST_F(Pieces, GiveTheSequentialErrorForReturnsTheMergeRefuses) {
  auto files = make_exchange(protocol_, 300);
  const std::string header_end = "\n";
  const auto body = files.vdab_return.find(header_end) + 1;
  const auto second = files.vdab_return.find('\n', body) + 1;
  const std::string first_row = files.vdab_return.substr(body, second - body);
  auto duplicate = files;
  duplicate.vdab_return += first_row;  // the same person twice
  expect_same_results(dir_, protocol_, duplicate, tiny(64));
  auto unknown = files;  // a person who was never sent
  unknown.vdab_return += valid(3) + first_row.substr(11);
  expect_same_results(dir_, protocol_, unknown, tiny(64));
  auto invalid = files;
  invalid.vdab_return.insert(second, "12345678901" + first_row.substr(11));
  expect_same_results(dir_, protocol_, invalid, tiny(64));
}

TEST_F(Pieces, TheScanFindsANumberInAnyPiece) {
  std::string output = "a;b\n";
  for (int i = 0; i < 500; ++i) output += "x" + std::to_string(i) + ";\"y\ny\"\n";
  for (std::size_t at : {std::size_t{4}, output.size() / 2, output.size() - 2}) {
    std::string found = output;
    found.insert(at, valid(1));
    File file(dir_, "output.csv", found);
    std::istringstream text(found);
    const auto sequential = scan_output(text, "output.csv");
    const auto pieces = scan_output(file.fd(), file.stream(), "output.csv", "insz", tiny(40));
    ASSERT_FALSE(sequential);
    EXPECT_EQ(describe(pieces), describe(sequential));
    expect_same_observed(dir_, found, tiny(40));  // never a record the scan blocks
  }
}

// The piece scan looks at a record's cells only when its bytes have 11 digits and separators in
// a row; the sequential scan checks every cell. Outputs of a clean part and one record of random
// digits, separators and letters (and quotes, semicolons and line feeds in a quoted cell) around
// an INSZ written with random separators, spoilt in half of them, at every offset against the
// 16-byte chunks, must give the same result both ways.
TEST_F(Pieces, TheScanSkipsNoRecordTheCellCheckWouldBlock) {
  std::mt19937_64 random(17);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
  auto noise = [&](std::size_t most, bool quoted) {
    const std::string bytes = quoted ? "0123456789.-/ xyzw\";\n" : "0123456789.-/ xyzw";
    std::string text;
    for (std::size_t k = pick(most + 1); k > 0; --k) text += bytes[pick(bytes.size())];
    return text;
  };
  std::size_t blocked = 0, passed = 0;
  for (int round = 0; round < 400; ++round) {
    std::string number = valid(static_cast<std::uint64_t>(round));
    if (round % 2 == 1) number[pick(11)] = 'x';
    std::string written;
    for (std::size_t d = 0; d < number.size(); ++d) {
      if (d > 0 && pick(4) == 0) written += ".-/ "[pick(4)];
      written += number[d];
    }
    const bool quoted = pick(2) == 0;
    std::string cell = noise(6, quoted) + written + noise(6, quoted);
    if (quoted) {
      std::string text = "\"";
      for (const char c : cell) text += c == '"' ? std::string("\"\"") : std::string(1, c);
      cell = text + "\"";
    }
    std::string output = "a;b;c\n";
    for (std::size_t k = pick(40); k > 0; --k)
      output += "2024-01-0" + std::to_string(k % 10) + ";x;\n";
    output += std::string(pick(17), 'y') + ";" + cell + ";" + noise(20, false) + "\nlast;1;2\n";
    std::istringstream text(output);
    const auto sequential = scan_output(text, "output.csv");
    File file(dir_, "output.csv", output);
    const auto pieces = scan_output(file.fd(), file.stream(), "output.csv", "insz", tiny(64));
    ASSERT_EQ(describe(pieces), describe(sequential)) << "round " << round;
    if (sequential) {
      ++passed;
      EXPECT_EQ(pieces->rows, sequential->rows);
      EXPECT_EQ(pieces->cells, sequential->cells);
    } else if (sequential.error().code == "scan.insz_found") {
      ++blocked;
    }
  }
  EXPECT_GT(blocked, 150u);
  EXPECT_GT(passed, 100u);
  // The shortest stretch, 11 digits between letters, at every offset in a record.
  for (std::size_t offset = 0; offset < 48; ++offset) {
    const std::string output = "a;b\n" + std::string(offset, 'y') + ";x" + valid(offset) + "z\n";
    File file(dir_, "output.csv", output);
    const auto pieces = scan_output(file.fd(), file.stream(), "output.csv", "insz", tiny(64));
    ASSERT_FALSE(pieces) << "offset " << offset;
    EXPECT_EQ(pieces.error().code, "scan.insz_found");
  }
}

TEST_F(Pieces, TheObserversErrorIsTheSequentialOne) {
  std::string output = "a;b\n";
  for (int i = 0; i < 300; ++i) output += "x" + std::to_string(i) + ";\"y\ny\"\n";
  for (std::size_t fail_at : {std::size_t{1}, std::size_t{2}, std::size_t{150}, std::size_t{301}}) {
    SCOPED_TRACE("fail_at " + std::to_string(fail_at));
    expect_same_observed(dir_, output, tiny(64), fail_at);
  }
}

}  // namespace
}  // namespace kbix
