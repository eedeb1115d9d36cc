#include "kbix/domain/insz.hpp"

#include <array>

namespace kbix {

namespace {

bool month_allowed(int month) {
  return (month >= 0 && month <= 12) || (month >= 20 && month <= 32) ||
         (month >= 40 && month <= 52);
}

std::uint64_t number(std::string_view digits) {
  std::uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  return value;
}

// 0 when neither century matches, 19 or 20 for the century whose checksum matches (`value`: the
// eleven digits as a number).
int matching_century(std::uint64_t value) {
  const std::uint64_t base = value / 100;
  const std::uint64_t check = value % 100;
  if (97 - base % 97 == check) return 19;
  if (97 - (2'000'000'000ULL + base) % 97 == check) return 20;
  return 0;
}

bool calendar_oddity(int year, int month, int day) {
  if (month == 0 || day == 0) return false;  // unknown: not odd
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (day > kDays[static_cast<std::size_t>(month - 1)]) return true;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && day == 29 && !leap;
}

enum class Problem { none, too_many_digits, not_eleven_digits, month, checksum };

// The rules of Insz::parse, reading `text` once; `facts` is filled when there is no problem.
Problem check(std::string_view text, InszFacts& facts) {
  std::uint64_t value = 0;
  std::size_t digits = 0;
  bool previous_was_digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (digits == 11) return Problem::too_many_digits;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
      previous_was_digit = true;
    } else if ((c == '.' || c == '-' || c == ' ') && previous_was_digit) {
      previous_was_digit = false;  // one separator between digits
    } else {
      return Problem::not_eleven_digits;
    }
  }
  if (digits != 11 || !previous_was_digit) return Problem::not_eleven_digits;
  const auto month = static_cast<int>(value / 10'000'000 % 100);  // YYMMDDSSSCC
  if (!month_allowed(month)) return Problem::month;
  const int century = matching_century(value);
  if (century == 0) return Problem::checksum;
  facts.value = value;
  facts.bis = month >= 20;
  facts.after_2000 = century == 20;
  const int year = century * 100 + static_cast<int>(value / 1'000'000'000);
  const auto day = static_cast<int>(value / 100'000 % 100);
  facts.calendar_warning = day > 31 || calendar_oddity(year, month % 20, day);
  return Problem::none;
}

}  // namespace

std::optional<InszFacts> insz_facts(std::string_view text) {
  InszFacts facts;
  if (check(text, facts) != Problem::none) return std::nullopt;
  return facts;
}

Result<Insz> Insz::parse(std::string_view text) {
  InszFacts facts;
  switch (check(text, facts)) {
    case Problem::none:
      break;
    case Problem::too_many_digits:
      return fail("insz.format", "more than 11 digits");
    case Problem::not_eleven_digits:
      return fail("insz.format", "not 11 digits (with optional . - separators)");
    case Problem::month:
      return fail("insz.month", "month out of range (00-12, 20-32, 40-52)");
    case Problem::checksum:
      return fail("insz.checksum", "check digits do not match");
  }
  Insz insz;
  insz.value_ = facts.value;
  insz.bis_ = facts.bis;
  insz.after_2000_ = facts.after_2000;
  insz.calendar_warning_ = facts.calendar_warning;
  insz.digits_.resize(11);
  std::uint64_t rest = facts.value;
  for (int i = 10; i >= 0; --i, rest /= 10) insz.digits_[i] = static_cast<char>('0' + rest % 10);
  return insz;
}

bool is_valid_insz_digits(std::string_view digits) {
  if (digits.size() != 11) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  const int month = static_cast<int>(number(digits.substr(2, 2)));
  return month_allowed(month) && matching_century(number(digits)) != 0;
}

std::ostream& operator<<(std::ostream& out, const Insz&) {
  return out << "<insz>";
}

}  // namespace kbix
