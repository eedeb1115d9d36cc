#include "kbix/domain/output_scan.hpp"

#include <string>
#include <vector>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"

namespace kbix {

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_separator(char c) {
  return c == '.' || c == '-' || c == '/' || c == ' ';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace

// A "number" is a run of digit groups joined by single separators ("85.07.30-033.28"), not glued
// to letters or digits at its ends. Any contiguous groups of it holding exactly 11 digits are a
// candidate, so "nr 12 85073003328" is caught as surely as "85073003328".
bool contains_insz_like_number(std::string_view text) {
  const std::size_t n = text.size();
  std::size_t at = 0;
  while (at < n) {
    if (!is_digit(text[at])) {
      ++at;
      continue;
    }
    const bool glued_before = at > 0 && is_letter(text[at - 1]);
    struct Group {
      std::size_t begin, length;
    };
    Group groups[32];
    std::size_t count = 0;
    bool too_many = false;
    for (;;) {
      const std::size_t begin = at;
      while (at < n && is_digit(text[at])) ++at;
      if (count < 32) {
        groups[count++] = {begin, at - begin};
      } else {
        too_many = true;
      }
      if (at + 1 < n && is_separator(text[at]) && is_digit(text[at + 1])) {
        ++at;
        continue;
      }
      break;
    }
    const bool glued_after = at < n && is_letter(text[at]);
    for (std::size_t first = 0; first < count; ++first) {
      if (first == 0 && glued_before) continue;
      std::size_t digits = 0;
      for (std::size_t last = first; last < count && digits < 11; ++last) {
        digits += groups[last].length;
        if (digits != 11) continue;
        if (last + 1 == count && glued_after && !too_many) break;
        char joined[11];
        std::size_t k = 0;
        for (std::size_t g = first; g <= last; ++g) {
          for (std::size_t i = 0; i < groups[g].length; ++i) {
            joined[k++] = text[groups[g].begin + i];
          }
        }
        if (is_valid_insz_digits(std::string_view(joined, 11))) return true;
      }
    }
  }
  return false;
}

Result<ScanReport> scan_output(std::istream& output_csv, std::string_view output_name,
                               std::string_view key_column) {
  CsvReader reader(output_csv, std::string(output_name));
  ScanReport report;
  std::vector<std::string> fields;
  bool header = true;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (header && fields[i] == key_column) {
        return fail("scan.key_column", reader.where(i + 1) + "the output has a '" +
                                           std::string(key_column) +
                                           "' column; publication blocked");
      }
      ++report.cells;
      if (contains_insz_like_number(fields[i])) {
        return fail(
            "scan.insz_found",
            reader.where(i + 1) + "a number that passes the INSZ check; publication blocked");
      }
    }
    if (!header) ++report.rows;
    header = false;
  }
  return report;
}

}  // namespace kbix
