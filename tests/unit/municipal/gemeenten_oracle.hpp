// The test oracle of the municipal lists: a kbi-gemeenten extract parsed and filtered again,
// written out from the protocol texts, independently of kbix's municipal, domain (CSV, INSZ) and
// core (dates, codes) code.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "support/independent_insz.hpp"

namespace kbix::test {

// RFC 4180 with ';' (the generator's output: LF line ends, quotes doubled).
inline std::vector<std::vector<std::string>> parse_semicolon_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  rows.back().emplace_back();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ';') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back();
      rows.back().emplace_back();
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back().front().empty()) rows.pop_back();
  return rows;
}

// Every '|'-separated part of a non-empty cell is in `codes`.
inline bool all_codes_in(const std::string& cell, const std::set<std::string>& codes) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t bar = cell.find('|', start);
    const std::string part = cell.substr(start, bar == std::string::npos ? bar : bar - start);
    if (!codes.contains(part)) return false;
    if (bar == std::string::npos) return true;
    start = bar + 1;
  }
}

// A strict YYYY-MM-DD that exists (leap years by the Gregorian rule).
inline bool is_iso_day(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (const std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int year = std::stoi(text.substr(0, 4));
  const int month = std::stoi(text.substr(5, 2));
  const int day = std::stoi(text.substr(8, 2));
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int lengths[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month >= 1 && month <= 12 && day >= 1 && day <= lengths[month - 1];
}

struct OracleRules {
  std::vector<std::string> fields;
  std::string scope_column;  // compared with "ja", or with the NIS for residence
  bool scope_is_residence = false;
  std::string residence_column;  // participation / consent: also this column == NIS
  std::string nis;
  std::string retention_column;  // empty: none
  std::string first_kept_day;    // ISO: a date before it is left out
  std::vector<std::pair<std::string, std::set<std::string>>> closed_lists;
};

struct OracleList {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> insz;
  std::uint64_t rows_read = 0, invalid = 0, duplicates = 0, out_of_scope = 0, retention = 0,
                invalid_values = 0;
};

inline OracleList expected_list(const std::string& csv, const OracleRules& rules) {
  const auto table = parse_semicolon_csv(csv);
  const auto& header = table.front();
  auto at = [&](const std::string& column) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == column) return i;
    }
    throw std::runtime_error("oracle: no column " + column);
  };
  OracleList list;
  std::set<std::string> seen;
  for (std::size_t r = 1; r < table.size(); ++r) {
    const auto& row = table[r];
    ++list.rows_read;
    const std::string& insz = row[at("insz")];
    if (!independently_valid_insz(insz)) {
      ++list.invalid;
      continue;
    }
    if (!seen.insert(insz).second) {
      ++list.duplicates;
      continue;
    }
    const std::string& scope = row[at(rules.scope_column)];
    const bool in_scope = rules.scope_is_residence
                              ? scope == rules.nis
                              : scope == "ja" && (rules.residence_column.empty() ||
                                                  row[at(rules.residence_column)] == rules.nis);
    if (!in_scope) {
      ++list.out_of_scope;
      continue;
    }
    if (!rules.retention_column.empty() && !row[at(rules.retention_column)].empty()) {
      const std::string& day = row[at(rules.retention_column)];
      if (!is_iso_day(day)) {
        ++list.invalid_values;
        continue;
      }
      if (day < rules.first_kept_day) {  // ISO dates order as text
        ++list.retention;
        continue;
      }
    }
    bool values_ok = true;
    for (const auto& [column, codes] : rules.closed_lists) {
      const std::string& cell = row[at(column)];
      if (!cell.empty() && !all_codes_in(cell, codes)) values_ok = false;
    }
    if (!values_ok) {
      ++list.invalid_values;
      continue;
    }
    std::vector<std::string> out;
    for (const auto& field : rules.fields) out.push_back(row[at(field)]);
    list.rows.push_back(std::move(out));
    list.insz.push_back(insz);
  }
  return list;
}

}  // namespace kbix::test
