// Synthetic kbi-gemeenten extracts (docs/data-dictionary-kbi-gemeenten.md) for tests, the demo and
// benchmarks: invented people spread over five real municipalities. Never real data.
//
// Everything is a pure function of the options: the same seed (and as_of) gives the same bytes.
// Names and streets are common words, numbers and phones random, e-mail addresses are
// @example.org; a few cells start with '=', '+', '-' or '@' (to test formula neutralisation in
// the workbook), a few rows have an invalid INSZ or repeat one (at the given rates), and a few
// hold a value outside a closed list or a malformed date (at bad_value_rate).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix::synthetic {

struct Municipality {
  const char* nis;  // NIS code of the residence (woonplaats_nis)
  const char* postcode;
  const char* name;
};
// Genk, Wetteren, Sint-Pieters-Leeuw, Gent, Leuven.
extern const std::array<Municipality, 5> kMunicipalities;

struct GemeentenOptions {
  std::uint64_t people = 1000;
  std::uint64_t seed = 1;
  double invalid_rate = 0.0;      // rows with a wrong INSZ check
  double duplicate_rate = 0.0;    // rows repeating an earlier INSZ (with other values)
  double bad_value_rate = 0.005;  // an interest outside the closed list, or a malformed date
  // Certificate dates fall in the 30 months before this day, so a 6-month retention leaves some
  // people out and keeps others.
  std::chrono::sys_days as_of{std::chrono::year{2026} / 12 / 1};
};

struct GemeentenCounts {
  std::uint64_t rows = 0, invalid = 0, duplicates = 0;
};

// The columns kbix-gen knows values for, in the order of the shipped protocol files.
const std::vector<std::string>& gemeenten_columns();

// Writes the header `columns` (each must be one of gemeenten_columns(); else
// "gen.unknown_column") and options.people rows to `out`, as RFC 4180 CSV with ';' (values
// written as they are: no formula neutralisation, that is the reader's job).
Result<GemeentenCounts> write_gemeenten_extract(std::ostream& out,
                                                const std::vector<std::string>& columns,
                                                const GemeentenOptions& options);

}  // namespace kbix::synthetic
