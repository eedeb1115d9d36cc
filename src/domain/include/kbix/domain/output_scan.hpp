// Output scan: the last gate before publication (invariant 4).
//
// Reads the finished output and blocks it when the header holds the key column or any cell holds
// an 11-digit number, written plainly or with separators ('.', '-', '/', ' ' between digits),
// that passes the INSZ check. Numbers inside longer digit runs or glued to letters are not
// INSZ-shaped and pass. Error: scan.insz_found ("output.csv:LINE:FIELD: ..."), scan.key_column;
// csv.* when the output is not even well-formed. Never names the number.
#pragma once

#include <cstdint>
#include <istream>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

struct ScanReport {
  std::uint64_t rows = 0;
  std::uint64_t cells = 0;
};

Result<ScanReport> scan_output(std::istream& output_csv, std::string_view output_name,
                               std::string_view key_column = "insz");

// True when `text` holds an INSZ-valid 11-digit number as described above.
bool contains_insz_like_number(std::string_view text);

}  // namespace kbix
