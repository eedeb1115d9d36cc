// A list as an XLSX workbook (one sheet: a header row, then the rows), written with libxlsxwriter.
//
// Every cell is a text cell: a shared-string cell (t="s") with the number format "@" (Text), and
// every column carries that format too. So:
//  - an INSZ "00010112345" or a phone "0470 12 34 56" keeps its leading zeros;
//  - a value that a spreadsheet would run as a formula (it starts with '=', '+', '-', '@', a tab
//    or a carriage return: see starts_like_formula) is neutralised: a shared string is never
//    evaluated on open, and because the cell is formatted as Text, Excel keeps it text even when
//    the employee edits the cell and presses Enter. The value itself is NOT changed (no leading
//    apostrophe is added): "+32 470 12 34 56" and "=1+1" read back exactly as written. (A leading
//    "'" would be stored as part of the text, shown in Excel and read back by every program;
//    libxlsxwriter 1.1.4 has no quotePrefix style attribute.)
//  - No formula, hyperlink or number cell is ever written.
// What it does NOT guarantee: a value exported again by the employee (Save As CSV) and opened
// elsewhere is then outside this file's protection; docs/municipal-file-format.md says so.
// libxlsxwriter's in-memory copies of the cells are freed, not wiped; its temporary files are
// unlinked, not overwritten (the work directory is the caller's, private, and wiped by it).
//
// Plaintext stays in the caller's work directory: the workbook is written to `path`, and
// libxlsxwriter's own temporary files are made (and unlinked at once) in path's directory,
// never in /tmp. The file is created with mode 0600.
//
// Input limits (errors name the row and column, 1-based with the header as row 1, never the
// value): at most 1,048,576 rows and 16,384 columns (Excel's), every row as wide as the header,
// a cell at most 32,767 characters, valid UTF-8, no control characters except tab, LF and CR.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix::office {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct WorkbookOptions {
  std::string sheet_name = "Lijst";  // 1..31 characters, none of []:*?/\ (Excel's rule)
};

// True when a spreadsheet would read `cell`, typed or imported, as a formula.
bool starts_like_formula(std::string_view cell) noexcept;

// Checks `table` against the limits above without writing. Errors "office.table_*" /
// "office.cell_*".
Status check_table(const Table& table);

// Writes `table` to `path` (a new file; an existing one is refused with "io.exists").
// Errors: those of check_table, "office.xlsx_write" (libxlsxwriter failed; the partial file is
// removed).
Status write_workbook(const Table& table, const std::filesystem::path& path,
                      const WorkbookOptions& options = {});

}  // namespace kbix::office
