// Fuzzes what the office module reads: a password kept elsewhere (FilePassword::from_text, the
// text comes back from sealed state) and the cells of a list (check_table: UTF-8, control
// characters, lengths, shape). Nothing may crash; an accepted password round-trips; an accepted
// table holds only valid UTF-8 without NUL; a refusal carries an "office." code.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kbix/domain/csv.hpp"
#include "kbix/office/password.hpp"
#include "kbix/office/workbook.hpp"

namespace {

// Rows end at 0x1E, cells at 0x1F (the ASCII record and unit separators); the first row is the
// header.
kbix::office::Table split(std::string_view text) {
  kbix::office::Table table;
  std::vector<std::string> row;
  std::string cell;
  auto end_row = [&] {
    row.push_back(std::move(cell));
    cell.clear();
    if (table.header.empty())
      table.header = std::move(row);
    else
      table.rows.push_back(std::move(row));
    row.clear();
  };
  for (const char c : text) {
    if (c == '\x1e') {
      end_row();
    } else if (c == '\x1f') {
      row.push_back(std::move(cell));
      cell.clear();
    } else {
      cell.push_back(c);
    }
  }
  end_row();
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto password = kbix::office::FilePassword::from_text(text);
    if (password) {
      if (password->reveal() != text) std::abort();
      if (!kbix::office::FilePassword::from_text(password->reveal())) std::abort();
    } else if (password.error().code != "office.password_shape") {
      std::abort();
    }
    return 0;
  }
  const auto table = split(text);
  auto checked = kbix::office::check_table(table);
  if (checked) {
    auto fine = [](const std::string& cell) {
      return kbix::is_valid_utf8(cell) && cell.find('\0') == std::string::npos;
    };
    for (const auto& cell : table.header)
      if (!fine(cell)) std::abort();
    for (const auto& row : table.rows) {
      if (row.size() != table.header.size()) std::abort();
      for (const auto& cell : row)
        if (!fine(cell)) std::abort();
    }
  } else if (checked.error().code.rfind("office.", 0) != 0) {
    std::abort();
  }
  return 0;
}
