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

  // A field the observer will be shown: its offset in the piece, or with kCopied in `copied`.
  struct Cell {
    static constexpr std::uint32_t kCopied = 1u << 31;
    std::uint32_t offset;
    std::uint32_t size;
  };
  struct Record {
    std::uint32_t first_cell;
    std::uint64_t line;  // lines before it in the piece
  };
  struct Work {
    ScanReport counts;
    std::vector<std::string_view> fields;
    // With an observer: each record's fields as read here, so that consume() parses nothing.
    std::vector<Cell> cells;
    std::vector<Record> records;
    std::string copied;
    std::uint64_t lines = 0;  // in the piece
  };
  // The records of one piece, on a worker thread: false for a finding or any CSV error.
  bool scan(std::string_view piece, Work& work) const;
  // On the calling thread, in file order, after scan() passed the same piece: adds its counts,
  // checks the record limit and shows the observer its records (the fields scan() kept).
  bool consume(std::string_view piece, const Work& work);

  const ScanReport& report() const { return report_; }

 private:
  static void keep_record(std::string_view piece, std::uint64_t line, Work& work);

  std::string source_;
  std::string key_column_;
  OutputObserver* observer_;
  CsvLimits limits_;
  std::size_t pseudo_column_ = std::string_view::npos;
  std::uint64_t line_ = 1;  // where the next piece begins, for the places the observer is shown
  ScanReport report_;
  std::vector<std::string_view> fields_;  // the observer's record: views into a piece and its Work
};

}  // namespace kbix::detail
