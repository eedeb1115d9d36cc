#include "kbix/output_scan.hpp"

#include <string>
#include <vector>

#include "kbix/csv.hpp"
#include "kbix/insz.hpp"

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

bool contains_insz_like_number(std::string_view text) {
  const std::size_t n = text.size();
  for (std::size_t start = 0; start < n; ++start) {
    if (!is_digit(text[start])) continue;
    if (start > 0 && (is_digit(text[start - 1]) || is_letter(text[start - 1]))) continue;
    if (start > 1 && is_separator(text[start - 1]) && is_digit(text[start - 2])) continue;
    std::string digits;
    std::size_t at = start;
    while (at < n && digits.size() <= 11) {
      if (is_digit(text[at])) {
        digits += text[at++];
      } else if (is_separator(text[at]) && at + 1 < n && is_digit(text[at + 1])) {
        ++at;
      } else {
        break;
      }
    }
    const bool glued = at < n && (is_digit(text[at]) || is_letter(text[at]));
    if (digits.size() == 11 && !glued && is_valid_insz_digits(digits)) return true;
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
