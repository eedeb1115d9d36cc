// The output scan of kbix/domain/output_scan.hpp piece by piece, for a caller that has the output's
// bytes in pieces of whole records: scan_output reading a file (file_pieces.hpp), and the merge
// scanning the rows it writes as it writes them (merge.hpp, MergeOutputScan).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/output_scan.hpp"

namespace kbix::detail {

class OutputPieces {
 public:
  OutputPieces(std::string_view source, std::string_view key_column, OutputObserver* observer);

  // The header, the first record of `reader` (at the file's start), on the calling thread: false
  // when it holds the key column or a number that passes the check, or the observer refuses it.
  bool header(CsvReader& reader);

  struct Work {
    ScanReport counts;
    std::vector<std::string_view> fields;
  };
  // The records of one piece, on a worker thread: false for a finding or any CSV error.
  bool scan(std::string_view piece, Work& work) const;
  // On the calling thread, in file order, after scan() passed the same piece: adds its counts,
  // checks the record limit and shows the observer its records (read from the piece again).
  bool consume(std::string_view piece, const Work& work);

  const ScanReport& report() const { return report_; }

 private:
  std::string source_;
  std::string key_column_;
  OutputObserver* observer_;
  CsvLimits limits_;
  std::size_t pseudo_column_ = std::string_view::npos;
  std::uint64_t line_ = 1;  // where the next piece begins, for the observer's reader
  ScanReport report_;
  std::vector<std::string_view> fields_;  // the observer's record, views into the piece
};

}  // namespace kbix::detail
