// The list for one municipality: from the kbi-gemeenten extract, exactly the protocol's fields
// (art. 3) for exactly the people in its scope (invariant 14; docs/municipal-protocols.md).
//
// The extract is validated like the VDAB extract: its header must be the protocol's extract
// columns (schema.hpp), every row as wide as the header (else the whole file is refused); a row
// with an invalid INSZ, or repeating an INSZ seen before (the first row of a person wins), is
// counted and left out. Then, per row:
//   scope      residence: the scope column equals ListRequest::residence_nis;
//              participation / consent: the scope column is exactly "ja" (anything else, empty
//              included, is out of scope), and when the scope has a residence_column, that column
//              equals ListRequest::residence_nis;
//   retention  a date in person_retention.date_column more than `months` months before
//              ListRequest::today leaves the person out (empty = kept; not a date = left out as an
//              invalid value: kbix cannot show the person is inside the retention);
//   values     a field named in closed_lists must be empty or allowed by its [domains] codes
//              ("en enkel deze"), else the row is left out as an invalid value.
// Filter columns never reach the table unless they are fields. The INSZ field, when there is one,
// holds the canonical 11 digits. Errors name the file and line (and field number), never a value;
// counts and line numbers are all a caller learns about a bad row.
// Does NOT: add the reference column (the engine does, from `insz`), encrypt, or write anything.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/office/workbook.hpp"

namespace kbix::municipal {

struct ListRequest {
  std::string residence_nis;  // the municipality's NIS code (5 digits): residence scope or filter
  std::chrono::sys_days today;
};

// rows = invalid + duplicates + out_of_scope + left_out_for_retention + invalid_values + in_scope;
// in_scope is the number of rows in the list.
struct ListCounts {
  std::uint64_t rows = 0, invalid = 0, duplicates = 0, in_scope = 0, out_of_scope = 0,
                left_out_for_retention = 0;
  std::uint64_t invalid_values = 0;  // in scope, but a closed-list field or the retention date
                                     // breaks its domain: left out
};

struct MunicipalList {
  office::Table table;
  std::vector<std::string> insz;  // insz[i] is row i's INSZ (for the row references, kept inside
                                  // kbix); table holds exactly protocol.export_rules->fields
                                  // (reference column NOT added here)
  ListCounts counts;
  // The first 1000 line numbers of each kind of left-out row, for the operator (never values).
  std::vector<std::uint64_t> invalid_lines, duplicate_lines, invalid_value_lines;
};

// Reads the extract behind `extract_fd` from byte 0 (with pread: the descriptor's offset is left
// alone); `extract_name` names it in messages. Errors: "municipal.not_export" (the protocol is
// not an export), "municipal.residence" (a residence is needed and residence_nis is not 5
// digits), "municipal.protocol" (a protocol built by hand names a column its extract lacks),
// "municipal.read", "municipal.too_many_rows" (more than an Excel sheet holds), and
// those of the CSV reader and schema check (csv.*, schema.*).
Result<MunicipalList> make_municipal_list(const Protocol& protocol, const ListRequest& request,
                                          int extract_fd, std::string_view extract_name);

// The first day whose date is still inside a retention of `months` months on `today`: `today`
// minus `months` calendar months, the day clamped to the end of a shorter month (31 August minus
// 6 months is 28 or 29 February). A date before it is "more than `months` months before".
std::chrono::sys_days retention_cutoff(std::chrono::sys_days today, int months);

}  // namespace kbix::municipal
