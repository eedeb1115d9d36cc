#include "kbix/domain/schema.hpp"

#include <algorithm>
#include <set>

namespace kbix {

Status check_header(const std::vector<std::string>& header,
                    const std::vector<std::string>& expected, std::string_view source_name) {
  const std::string where = std::string(source_name) + ":1: ";
  std::set<std::string> seen;
  for (const auto& column : header) {
    if (!seen.insert(column).second) {
      return fail("schema.duplicate_column", where + "column '" + column + "' appears twice");
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
                                             "' is missing and '" + extra.front() +
                                             "' is not expected (renamed?)");
  }
  if (!missing.empty()) {
    return fail("schema.missing_column", where + "column '" + missing.front() + "' is missing");
  }
  if (!extra.empty()) {
    return fail("schema.extra_column", where + "column '" + extra.front() + "' is not expected");
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (header[i] != expected[i]) {
      return fail("schema.column_order", where + "column " + std::to_string(i + 1) + " is '" +
                                             header[i] + "', expected '" + expected[i] + "'");
    }
  }
  return ok();
}

Result<std::size_t> read_header(CsvReader& reader, const std::vector<std::string>& expected) {
  std::vector<std::string> header;
  auto got = reader.next(header);
  if (!got) return fail(std::move(got).error());
  if (!*got) return fail("schema.empty_file", reader.source_name() + ": empty file, no header");
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
