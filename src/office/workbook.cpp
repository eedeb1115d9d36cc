#include "kbix/office/workbook.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <system_error>

#include "kbix/domain/csv.hpp"  // is_valid_utf8

namespace kbix::office {
namespace {

constexpr std::size_t kMaxRows = LXW_ROW_MAX;  // header included
constexpr std::size_t kMaxColumns = LXW_COL_MAX;
constexpr std::size_t kMaxCellCharacters = 32767;  // Excel's limit for one cell

std::string where(std::size_t row, std::size_t column) {
  return "row " + std::to_string(row + 1) + ", column " + std::to_string(column + 1);
}

// Code points of valid UTF-8: every byte that is not a continuation byte (10xxxxxx) starts one.
std::size_t code_points(std::string_view utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
  }));
}

Status check_cell(std::string_view cell, std::size_t row, std::size_t column) {
  for (const char c : cell) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7F)
      return fail("office.cell_control_character",
                  where(row, column) + ": a control character (other than tab or line break)");
  }
  if (!is_valid_utf8(cell))
    return fail("office.cell_not_utf8", where(row, column) + ": not valid UTF-8");
  if (code_points(cell) > kMaxCellCharacters)
    return fail("office.cell_too_long",
                where(row, column) + ": more than 32767 characters (Excel's limit for a cell)");
  return ok();
}

struct WorkbookCloser {
  void operator()(lxw_workbook* workbook) const noexcept {
    if (workbook != nullptr) workbook_close(workbook);
  }
};

using WorkbookHandle = std::unique_ptr<lxw_workbook, WorkbookCloser>;

// Closes the workbook first (libxlsxwriter writes the file on close), then removes the file.
Status xlsx_failure(WorkbookHandle& workbook, const std::filesystem::path& path,
                    std::string_view step, lxw_error error) {
  workbook.reset();
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  return fail("office.xlsx_write",
              path.string() + ": " + std::string(step) + " failed (" + lxw_strerror(error) + ")");
}

}  // namespace

bool starts_like_formula(std::string_view cell) noexcept {
  return !cell.empty() && std::string_view("=+-@\t\r").find(cell.front()) != std::string_view::npos;
}

Status check_table(const Table& table) {
  if (table.header.empty()) return fail("office.table_no_columns", "the list has no columns");
  if (table.header.size() > kMaxColumns)
    return fail("office.table_too_wide", "the list has more than 16384 columns (Excel's limit)");
  if (table.rows.size() + 1 > kMaxRows)
    return fail("office.table_too_long", "the list has more than 1048575 rows (Excel's limit)");
  for (std::size_t column = 0; column < table.header.size(); ++column)
    KBIX_TRY(check_cell(table.header[column], 0, column));
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    if (row.size() != table.header.size())
      return fail("office.table_ragged", "row " + std::to_string(r + 2) + " has " +
                                             std::to_string(row.size()) + " cells, the header " +
                                             std::to_string(table.header.size()));
    for (std::size_t column = 0; column < row.size(); ++column)
      KBIX_TRY(check_cell(row[column], r + 1, column));
  }
  return ok();
}

Status write_workbook(const Table& table, const std::filesystem::path& path,
                      const WorkbookOptions& options) {
  KBIX_TRY(check_table(table));
  // Claim the name first: O_EXCL refuses an existing file, and the mode is 0600 before any byte;
  // libxlsxwriter then truncates and fills this file.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return fail(err == EEXIST ? ErrorCode("io.exists") : ErrorCode("io.create"),
                path.string() + ": cannot create (" + std::generic_category().message(err) + ")");
  }
  ::close(fd);

  // libxlsxwriter makes its temporary files in tmpdir (unlinked at once): keep them beside the
  // workbook, in the caller's work directory, never in /tmp.
  std::string tmpdir = path.parent_path().empty() ? "." : path.parent_path().string();
  lxw_workbook_options lxw_options{};
  lxw_options.constant_memory = LXW_FALSE;
  lxw_options.tmpdir = tmpdir.data();
  lxw_options.use_zip64 = LXW_FALSE;
  WorkbookHandle workbook(workbook_new_opt(path.c_str(), &lxw_options));
  if (!workbook)
    return xlsx_failure(workbook, path, "creating the workbook", LXW_ERROR_MEMORY_MALLOC_FAILED);

  lxw_worksheet* sheet = workbook_add_worksheet(workbook.get(), options.sheet_name.c_str());
  if (sheet == nullptr) {
    (void)xlsx_failure(workbook, path, "naming the sheet", LXW_ERROR_INVALID_SHEETNAME_CHARACTER);
    return fail("office.sheet_name", "the sheet name is not allowed by Excel");
  }
  lxw_format* text = workbook_add_format(workbook.get());
  lxw_format* header_text = workbook_add_format(workbook.get());
  format_set_num_format(text, "@");
  format_set_num_format(header_text, "@");
  format_set_bold(header_text);

  const auto last_column = static_cast<lxw_col_t>(table.header.size() - 1);
  // Whole columns are Text, so what the employee types in them later stays text too.
  if (const auto e = worksheet_set_column(sheet, 0, last_column, 20, text); e != LXW_NO_ERROR)
    return xlsx_failure(workbook, path, "formatting the columns", e);
  worksheet_freeze_panes(sheet, 1, 0);

  auto write_row = [&](const std::vector<std::string>& cells, lxw_row_t row, lxw_format* format) {
    for (std::size_t column = 0; column < cells.size(); ++column) {
      const auto e = worksheet_write_string(sheet, row, static_cast<lxw_col_t>(column),
                                            cells[column].c_str(), format);
      if (e != LXW_NO_ERROR) return e;
    }
    return LXW_NO_ERROR;
  };
  if (const auto e = write_row(table.header, 0, header_text); e != LXW_NO_ERROR)
    return xlsx_failure(workbook, path, "writing the header", e);
  for (std::size_t r = 0; r < table.rows.size(); ++r)
    if (const auto e = write_row(table.rows[r], static_cast<lxw_row_t>(r + 1), text);
        e != LXW_NO_ERROR)
      return xlsx_failure(workbook, path, "writing row " + std::to_string(r + 2), e);

  const lxw_error closed = workbook_close(workbook.release());
  if (closed != LXW_NO_ERROR) return xlsx_failure(workbook, path, "closing the workbook", closed);
  return ok();
}

}  // namespace kbix::office
