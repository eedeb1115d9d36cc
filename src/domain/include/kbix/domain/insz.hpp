// Insz: a Belgian national register number (INSZ/NISS) or BIS number, validated.
//
// Accepts "85073003328" and "85.07.30-033.28" (separators '.', '-' and ' ' between digits).
// Rules (DESIGN.md §2): 11 digits YYMMDD SSS CC; CC = 97 - (first 9 digits mod 97), or the same
// with "2" prefixed for births from 2000; month 00-12 (national register), 20-32 or 40-52 (BIS,
// month + 20 or + 40). Day or month 00 means unknown. A day that does not exist in its month is
// a calendar warning, never a rejection.
//
// Privacy guard (invariant 5): an Insz prints as "<insz>" through operator<< and fmt/spdlog, so it
// cannot be logged by accident; code that must write the number asks for digits() explicitly.
// Does NOT guarantee that the number was ever issued to anyone.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

class Insz {
 public:
  // Errors: insz.format (not 11 digits after removing separators), insz.month, insz.checksum.
  // Messages never contain the input.
  static Result<Insz> parse(std::string_view text);

  const std::string& digits() const { return digits_; }  // canonical 11 digits
  std::uint64_t value() const { return value_; }         // the 11 digits as a number
  bool is_bis() const { return bis_; }
  bool born_after_2000() const { return after_2000_; }
  bool has_calendar_warning() const { return calendar_warning_; }

  friend bool operator==(const Insz& a, const Insz& b) { return a.value_ == b.value_; }

 private:
  std::string digits_;
  std::uint64_t value_ = 0;
  bool bis_ = false;
  bool after_2000_ = false;
  bool calendar_warning_ = false;
};

std::ostream& operator<<(std::ostream& out, const Insz& insz);  // prints "<insz>"

// What Insz::parse finds, without its error message or its digits: for a loop over a million rows
// (the export). Nullopt exactly when Insz::parse fails.
struct InszFacts {
  std::uint64_t value = 0;  // Insz::value()
  bool bis = false;
  bool after_2000 = false;
  bool calendar_warning = false;
};
std::optional<InszFacts> insz_facts(std::string_view text);

// True when `digits` is exactly 11 ASCII digits passing the month and checksum rules.
bool is_valid_insz_digits(std::string_view digits);

}  // namespace kbix

template <>
struct fmt::formatter<kbix::Insz> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const kbix::Insz&, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format("<insz>", context);
  }
};
