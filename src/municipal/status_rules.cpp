// The header and row rules of a status return, whatever its format (internal/status_records.hpp).
#include <algorithm>
#include <unordered_map>

#include "internal/status_records.hpp"

namespace kbix::municipal::internal {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// The first field (1-based) holding a C0 control character other than TAB, LF, CR, or DEL.
std::size_t field_with_control(const std::vector<std::string_view>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    for (const char c : fields[i]) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7F) return i + 1;
    }
  }
  return 0;
}

struct Columns {
  std::size_t count = 0;
  std::size_t reference = 0;  // 0-based
  std::size_t status = 0;
};

Result<Columns> find_columns(const std::vector<std::string_view>& header,
                             const RecordSource& source, const StatusReturnOptions& options) {
  const std::uint64_t line = source.line();
  Columns columns;
  columns.count = header.size();
  std::size_t reference_hits = 0;
  std::size_t status_hits = 0;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = trim(header[i]);
    const bool is_reference = same_ignoring_case(name, options.reference_column);
    if (!is_reference && !same_ignoring_case(name, options.status_column)) continue;
    std::size_t& hits = is_reference ? reference_hits : status_hits;
    if (++hits == 2) {
      return refusal("status.duplicate_column",
                     source.where(line, i + 1) + "the column \"" +
                         (is_reference ? options.reference_column : options.status_column) +
                         "\" appears twice");
    }
    (is_reference ? columns.reference : columns.status) = i;
  }
  if (reference_hits == 0 || status_hits == 0) {
    const std::string& missing =
        reference_hits == 0 ? options.reference_column : options.status_column;
    return refusal("status.missing_column",
                   source.where(line, 0) + "the header has no column \"" + missing + "\"");
  }
  return columns;
}

// The list's own spelling of `value`, or nullptr when it is not in the closed list.
const std::string* closed_list_entry(const std::vector<std::string>& allowed,
                                     std::string_view value) {
  for (const auto& entry : allowed) {
    if (same_ignoring_case(entry, value)) return &entry;
  }
  return nullptr;
}

// A record of another width than the header: CSV records must match it; a sheet row may be
// shorter (its missing cells are empty, padded here) but holds no value right of the header.
Status check_width(std::vector<std::string_view>& fields, const RecordSource& source,
                   std::uint64_t line, std::size_t count) {
  if (fields.size() == count) return ok();
  if (source.fixed_width()) {
    return refusal("status.column_count", source.where(line, std::min(fields.size(), count) + 1) +
                                              std::to_string(fields.size()) +
                                              " fields where the header has " +
                                              std::to_string(count));
  }
  if (fields.size() > count) {
    return refusal("status.column_count",
                   source.where(line, fields.size()) + "a cell right of the header's last column");
  }
  fields.resize(count);
  return ok();
}

}  // namespace

Unexpected<Error> refusal(ErrorCode code, std::string message) {
  return fail(code, std::move(message) + "; the whole file is refused, nothing was imported");
}

Result<StatusImport> apply_status_rules(RecordSource& source, const RowReferences& references,
                                        const StatusReturnOptions& options) {
  std::vector<std::string> allowed = options.allowed_statuses;
  if (allowed.empty()) {
    for (const auto status : kDefaultActivityStatuses) allowed.emplace_back(status);
  }
  std::vector<std::string_view> fields;
  auto got = source.next(fields);
  if (!got) return fail(std::move(got).error());
  if (!*got) {
    return refusal("status.empty",
                   source.where(0, 0) + std::string(source.empty_what()) + " is empty (no header)");
  }
  if (const std::size_t bad = field_with_control(fields); bad != 0) {
    return refusal("status.control_character",
                   source.where(source.line(), bad) + "a control character in the header");
  }
  auto columns = find_columns(fields, source, options);
  if (!columns) return fail(std::move(columns).error());

  StatusImport result;
  std::unordered_map<std::string, std::uint64_t> seen;  // reference -> line
  std::string reference;
  for (;;) {
    got = source.next(fields);
    if (!got) return fail(std::move(got).error());
    if (!*got) break;
    const std::uint64_t line = source.line();
    ++result.data_rows;
    if (result.data_rows > options.max_rows) {
      return refusal("status.too_large", source.where(line, 0) + "more than " +
                                             std::to_string(options.max_rows) + " rows");
    }
    KBIX_TRY(check_width(fields, source, line, columns->count));
    if (const std::size_t bad = field_with_control(fields); bad != 0) {
      return refusal("status.control_character", source.where(line, bad) + "a control character");
    }
    const std::string_view typed = trim(fields[columns->reference]);
    const std::string_view status = trim(fields[columns->status]);
    const std::size_t reference_column = columns->reference + 1;
    const std::size_t status_column = columns->status + 1;
    if (typed.empty()) {
      if (!status.empty()) {
        return refusal("status.missing_reference",
                       source.where(line, reference_column) + "a status without a row reference");
      }
      ++result.blank_rows;
      continue;
    }
    reference.assign(typed.begin(), typed.end());
    std::transform(reference.begin(), reference.end(), reference.begin(), upper);
    const auto insz =
        RowReferences::is_reference(reference) ? references.insz_of(reference) : std::nullopt;
    if (!insz) {
      return refusal("status.unknown_reference",
                     source.where(line, reference_column) +
                         "not a row reference that kbix issued in this exchange");
    }
    if (const auto [earlier, fresh] = seen.emplace(reference, line); !fresh) {
      return refusal("status.duplicate_reference", source.where(line, reference_column) +
                                                       "the same row reference as " +
                                                       (source.fixed_width() ? "line " : "row ") +
                                                       std::to_string(earlier->second));
    }
    if (status.empty()) {
      ++result.without_status;
      continue;
    }
    const std::string* canonical = closed_list_entry(allowed, status);
    if (canonical == nullptr) {
      return refusal("status.unknown_status",
                     source.where(line, status_column) + "a status outside the closed list");
    }
    result.statuses.push_back(ReturnedStatus{*insz, reference, *canonical, line});
  }
  return result;
}

}  // namespace kbix::municipal::internal
