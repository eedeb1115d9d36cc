// The one set of status-return rules (kbix/municipal/status_return.hpp) over a source of records
// that both readers feed: the CSV reader (status_return.cpp) and the workbook reader
// (status_workbook.cpp). A record is a list of cells, the first record is the header; the
// source names places in its own terms ("f.csv:4:2: ", "f.xlsx: row 4, column B: ").
// Does NOT guarantee anything about the source's own checks (UTF-8, bounds): each source makes
// them before it hands out a record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/municipal/row_references.hpp"
#include "kbix/municipal/status_return.hpp"

namespace kbix::municipal::internal {

class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The next record into `fields` (views valid until the next call); false at the end. An error
  // is already a refusal of the whole file (see refusal()).
  virtual Result<bool> next(std::vector<std::string_view>& fields) = 0;
  // The line (CSV) or sheet row (workbook) of the record last returned.
  virtual std::uint64_t line() const = 0;
  // The prefix of a message about `line` and, when `column` (1-based) is not 0, that column.
  virtual std::string where(std::uint64_t line, std::size_t column) const = 0;
  // True when every record has exactly as many fields as the header (CSV); false when a record
  // ends at its last non-empty cell and the missing cells are empty (a sheet row).
  virtual bool fixed_width() const = 0;
  // What the source is called in "the file is empty" ("the file", "the sheet").
  virtual std::string_view empty_what() const = 0;
};

// `message` (which names the place, never a value) with the "nothing was imported" tail.
Unexpected<Error> refusal(ErrorCode code, std::string message);

// The header and row rules of status_return.hpp over `source`.
Result<StatusImport> apply_status_rules(RecordSource& source, const RowReferences& references,
                                        const StatusReturnOptions& options);

}  // namespace kbix::municipal::internal
