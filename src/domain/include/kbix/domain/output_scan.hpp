// Output scan: the last gate before publication (invariant 4).
//
// Reads the finished output and blocks it when the header holds the key column or any cell holds
// 11 consecutive digits that pass the INSZ check (month and mod-97 rules), whatever stands around
// them: glued to letters ("BE85073003328", "insz85073003328"), inside a longer digit run
// ("1285073003328"), or written with single separators ('.', '-', '/', ' ') between digits
// ("85.07.30-033.28"; the digits of such a number are read as one run). Error: scan.insz_found
// ("output.csv:LINE:FIELD: ..."), scan.key_column; csv.* when the output is not even
// well-formed. Never names the number.
// Two shapes are skipped because kbix writes them itself and chance windows in them would block
// by luck (one 32-hex pseudonym in 1,000, one SHA-256 in 400: every large keyed output): a whole
// word of 16/32/40/64 lowercase hex characters with at least one letter (key ids, pseudonyms,
// SHA-1/SHA-256 hashes), and a pseudo_id cell of exactly 32 lowercase hex characters.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/file_pieces.hpp"

namespace kbix {

struct ScanReport {
  std::uint64_t rows = 0;
  std::uint64_t cells = 0;
};

Result<ScanReport> scan_output(std::istream& output_csv, std::string_view output_name,
                               std::string_view key_column = "insz");

// Sees each record the scan has passed, the header first, so that a report over the output (the
// disclosure report) needs no read of its own. An error it returns stops the scan and is the
// scan's result.
class OutputObserver {
 public:
  virtual ~OutputObserver() = default;
  // `fields` are views into the scan's buffer, valid only during the call (no copy per record:
  // the observer runs on the scan's serial path); `place` names the record for a message.
  virtual Status record(const std::vector<std::string_view>& fields, const RecordPlace& place) = 0;
  // Forgets every record seen: the scan shows the file again from its start.
  virtual void clear() = 0;
};

Result<ScanReport> scan_output(std::istream& output_csv, std::string_view output_name,
                               OutputObserver& observer, std::string_view key_column = "insz");

// The same result, reading the regular file behind `fd` (from byte 0, with pread) on two threads
// (file_pieces.hpp); `sequential` reads the same file from its start and gives the answer for
// small files and whenever a piece finds anything (so a finding is named exactly as above).
Result<ScanReport> scan_output(int fd, std::istream& sequential, std::string_view output_name,
                               std::string_view key_column = "insz",
                               const FileReading& reading = {});

// The same with `observer`, which sees every record on the calling thread in file order (the
// fields the workers read as they scanned each piece); when the pieces are refused it is cleared
// and shown the file again by the sequential scan (so its errors are named exactly).
Result<ScanReport> scan_output(int fd, std::istream& sequential, std::string_view output_name,
                               OutputObserver& observer, std::string_view key_column = "insz",
                               const FileReading& reading = {});

// True when `text` holds an INSZ-valid 11-digit window as described above. The one rule for every
// privacy gate: the output scan, the audit log's guard on entry details, operator text.
bool contains_insz_like_number(std::string_view text);

}  // namespace kbix
