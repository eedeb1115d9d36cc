// Merge: VDAB's return + the KBI snapshot -> the pseudonymised output, in one streaming pass.
//
// The snapshot (KBI extract) is read with the export rules, so "sent" means exactly what the
// outbound file held. It is kept compactly in memory: per person one string with its output
// cells already escaped, in fixed-size blocks, with a vector sorted by the 64-bit INSZ value
// (about 180 MB for 1,000,000 people).
// The return is then streamed: its header must be the protocol's return columns; an invalid INSZ
// or a duplicated INSZ rejects it (merge.invalid_insz, merge.duplicate_in_return, naming the
// line); a row whose INSZ was not sent is counted and, because a return is accepted only when
// every INSZ in it was sent (invariant 3), the merge then fails with merge.insz_not_sent (count
// and first line). Sent people missing from the return (unknown to VDAB) are counted only.
// Output: header = protocol.output_columns(), one row per return row, in return order (a re-run
// is byte-identical); pseudo_id first when the protocol asks for keyed pseudonyms; never insz.
// The caller writes the output to a temporary file and discards it on failure.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <ostream>
#include <string_view>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/domain/file_pieces.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/domain/pseudonym.hpp"

namespace kbix {

struct MergeReport {
  std::uint64_t snapshot_rows = 0;
  std::uint64_t sent = 0;
  std::uint64_t returned = 0;
  std::uint64_t matched = 0;
  std::uint64_t not_sent = 0;
  std::uint64_t sent_missing_from_return = 0;
  std::uint64_t output_rows = 0;
};

// Counts over every data record the merge reads (the article 7 quality report, module reports),
// so that a report over both files needs no reading of its own. Each piece of a file is counted
// into a tally of its own on a worker thread (make()), and the tallies are added in file order on
// the calling thread; after a merge that failed the counts mean nothing (read the files again).
class RecordTally {
 public:
  virtual ~RecordTally() = default;
  virtual std::unique_ptr<RecordTally> make() const = 0;  // an empty tally of the same kind
  // `insz_valid`: the key parses as an INSZ (Insz::parse).
  virtual void snapshot_record(const std::vector<std::string_view>& fields, bool insz_valid) = 0;
  virtual void return_record(const std::vector<std::string_view>& fields) = 0;
  virtual void add(const RecordTally& other) = 0;  // `other` was made by make()
  virtual void clear() = 0;
};

// The output scan of invariant 4 (output_scan.hpp) over the bytes the merge writes, as it writes
// them, so that the output need not be read again for it (issue 17). The header and then each
// piece's rows are scanned exactly as scan_output scans a file in pieces (whole records, the same
// reader, checks and limits), on the worker that made them, and are written unchanged in file
// order; `observer` sees every record on the calling thread in that order. `passed` is true only
// when every byte written passed so; otherwise (the sequential merge of small or refused files,
// a finding, a CSV error, an error of the observer) it is false, the observer is cleared, and the
// caller scans the file as before, which names what it finds.
struct MergeOutputScan {
  std::string_view output_name = "output.csv";
  std::string_view key_column = "insz";
  OutputObserver* observer = nullptr;
  bool passed = false;
  ScanReport report;  // when passed
};

Result<MergeReport> merge_and_pseudonymise(std::istream& vdab_return, std::string_view return_name,
                                           std::istream& kbi_snapshot,
                                           std::string_view snapshot_name, const Protocol& protocol,
                                           const PseudonymKey* key, std::ostream& output_csv);

// The same result, reading the regular files behind the descriptors (from byte 0, with pread)
// on two threads (file_pieces.hpp); the streams must read the same files from their start and
// are used for small files and for files the pieces refuse (then with the sequential answer).
// `tally`, when given, sees every data record of both files once (also on the sequential path);
// `scan`, when given, is the output scan above.
Result<MergeReport> merge_and_pseudonymise(
    int return_fd, std::istream& vdab_return, std::string_view return_name, int snapshot_fd,
    std::istream& kbi_snapshot, std::string_view snapshot_name, const Protocol& protocol,
    const PseudonymKey* key, std::ostream& output_csv, const FileReading& reading = {},
    RecordTally* tally = nullptr, MergeOutputScan* scan = nullptr);

}  // namespace kbix
