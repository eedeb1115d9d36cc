// What the municipal fuzz targets share: a fixed map of three row references, and the checks on
// the outcome of reading a status return (CSV or workbook) against it. An accepted return: every
// status is from the closed list, every INSZ the one the map gives for its reference, no
// reference twice, and the counts add up. A refusal carries a "status." or "io." code and its
// message holds no reference or INSZ of the map and no line break. A failed check aborts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "kbix/municipal/row_references.hpp"
#include "kbix/municipal/status_return.hpp"

namespace kbix::fuzz {

inline constexpr std::string_view kMap =
    "kbix-row-references;1;fuzz\n"
    "R-22222-33333-44444-55555;90010100123\n"
    "R-AAAAA-BBBBB-CCCCC-DDDDD;90010100222\n"
    "R-K7WXA-2MBCD-EFGHJ-KMNPR;90010100321\n";
inline constexpr std::string_view kValues[] = {"R-22222-33333-44444-55555",
                                               "R-AAAAA-BBBBB-CCCCC-DDDDD",
                                               "R-K7WXA-2MBCD-EFGHJ-KMNPR",
                                               "90010100123",
                                               "90010100222",
                                               "90010100321"};

inline const municipal::RowReferences& fixed_map() {
  static const municipal::RowReferences map = [] {
    auto parsed = municipal::RowReferences::parse(kMap, "fuzz");
    if (!parsed) std::abort();
    return std::move(*parsed);
  }();
  return map;
}

inline bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// `max_line`: the largest line an accepted status may carry.
inline void check_status_outcome(const Result<municipal::StatusImport>& imported,
                                 std::uint64_t max_line) {
  const municipal::RowReferences& map = fixed_map();
  if (!imported) {
    const auto& error = imported.error();
    if (!starts_with(error.code, "status.") && !starts_with(error.code, "io.")) std::abort();
    if (error.message.find('\n') != std::string::npos) std::abort();
    for (const auto value : kValues) {
      if (error.message.find(value) != std::string::npos) std::abort();
    }
    return;
  }
  std::set<std::string> references;
  for (const auto& entry : imported->statuses) {
    const auto insz = map.insz_of(entry.reference);
    if (!insz || *insz != entry.insz) std::abort();
    if (!references.insert(entry.reference).second) std::abort();
    const auto& list = municipal::kDefaultActivityStatuses;
    if (std::find(std::begin(list), std::end(list), entry.status) == std::end(list)) std::abort();
    if (entry.line == 0 || entry.line > max_line) std::abort();
  }
  if (imported->statuses.size() + imported->blank_rows + imported->without_status !=
      imported->data_rows) {
    std::abort();
  }
}

}  // namespace kbix::fuzz
