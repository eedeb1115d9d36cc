#include "kbix/domain/schema.hpp"

#include <algorithm>
#include <set>

#include "kbix/domain/insz.hpp"
#include "kbix/domain/output_scan.hpp"

namespace kbix {

namespace {

// A header cell is quoted in a message only when it could be a column name: a letter first, then
// letters, digits or '_', at most 64 characters, and no INSZ-like number. Anything else may be a
// value (a header-less file puts its first data row here) and is named by its number only.
bool is_plausible_column_name(std::string_view cell) {
  if (cell.empty() || cell.size() > 64) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(cell.front())) return false;
  for (const char c : cell) {
    if (!letter(c) && !digit(c) && c != '_') return false;
  }
  return !contains_insz_like_number(cell);
}

std::string column_text(const std::vector<std::string>& header, std::size_t index) {
  const std::string number = "column " + std::to_string(index + 1);
  if (is_plausible_column_name(header[index])) return number + " '" + header[index] + "'";
  return number + " (not a column name; not quoted)";
}

std::size_t index_of(const std::vector<std::string>& header, const std::string& cell) {
  return static_cast<std::size_t>(std::find(header.begin(), header.end(), cell) - header.begin());
}

}  // namespace

Status check_header(const std::vector<std::string>& header,
                    const std::vector<std::string>& expected, std::string_view source_name) {
  const std::string where = std::string(source_name) + ":1: ";
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (Insz::parse(header[i])) {
      return fail("schema.no_header", where + "line 1 is data, not a header (" +
                                          column_text(header, i) +
                                          " holds a national register number); the file must "
                                          "start with the protocol's header row");
    }
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (!seen.insert(header[i]).second) {
      return fail("schema.duplicate_column", where + column_text(header, i) + " appears twice");
    }
  }
  std::vector<std::string> missing;
  std::vector<std::string> extra;
  for (const auto& column : expected) {
    if (!seen.contains(column)) missing.push_back(column);
  }
  const std::set<std::string> wanted(expected.begin(), expected.end());
  for (const auto& column : header) {
    if (!wanted.contains(column)) extra.push_back(column);
  }
  if (!missing.empty() && !extra.empty()) {
    return fail("schema.missing_column", where + "column '" + missing.front() +
                                             "' is missing and " +
                                             column_text(header, index_of(header, extra.front())) +
                                             " is not expected (renamed?)");
  }
  if (!missing.empty()) {
    return fail("schema.missing_column", where + "column '" + missing.front() + "' is missing");
  }
  if (!extra.empty()) {
    return fail("schema.extra_column",
                where + column_text(header, index_of(header, extra.front())) + " is not expected");
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (header[i] != expected[i]) {
      return fail("schema.column_order",
                  where + column_text(header, i) + " where '" + expected[i] + "' was expected");
    }
  }
  return ok();
}

Result<std::size_t> read_header(CsvReader& reader, const std::vector<std::string>& expected) {
  std::vector<std::string> header;
  KBIX_ASSIGN_OR_RETURN(auto got, reader.next(header));
  if (!got) return fail("schema.empty_file", reader.source_name() + ": empty file, no header");
  if (!header.empty() && header.front().empty() && header.size() == 1) {
    return fail("schema.empty_file", reader.source_name() + ":1: empty header line");
  }
  KBIX_TRY(check_header(header, expected, reader.source_name()));
  return header.size();
}

Status check_field_count(const CsvReader& reader, std::size_t got, std::size_t expected) {
  if (got == expected) return ok();
  return fail("schema.field_count", reader.where(std::min(got, expected) + 1) +
                                        std::to_string(got) + " fields, the header has " +
                                        std::to_string(expected));
}

}  // namespace kbix
