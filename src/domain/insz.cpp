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

// 0 when neither century matches, 19 or 20 for the century whose checksum matches.
int matching_century(std::string_view digits) {
  const std::uint64_t base = number(digits.substr(0, 9));
  const std::uint64_t check = number(digits.substr(9, 2));
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

}  // namespace

Result<Insz> Insz::parse(std::string_view text) {
  std::string digits;
  digits.reserve(11);
  bool previous_was_digit = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (digits.size() == 11) return fail("insz.format", "more than 11 digits");
      digits += c;
      previous_was_digit = true;
    } else if ((c == '.' || c == '-' || c == ' ') && previous_was_digit) {
      previous_was_digit = false;  // one separator between digits
    } else {
      return fail("insz.format", "not 11 digits (with optional . - separators)");
    }
  }
  if (digits.size() != 11 || !previous_was_digit) {
    return fail("insz.format", "not 11 digits (with optional . - separators)");
  }
  const int month = static_cast<int>(number(std::string_view(digits).substr(2, 2)));
  if (!month_allowed(month)) return fail("insz.month", "month out of range (00-12, 20-32, 40-52)");
  const int century = matching_century(digits);
  if (century == 0) return fail("insz.checksum", "check digits do not match");

  Insz insz;
  insz.value_ = number(digits);
  insz.bis_ = month >= 20;
  insz.after_2000_ = century == 20;
  const int real_month = month % 20;
  const int year = century * 100 + static_cast<int>(number(std::string_view(digits).substr(0, 2)));
  const int day = static_cast<int>(number(std::string_view(digits).substr(4, 2)));
  insz.calendar_warning_ = day > 31 || calendar_oddity(year, real_month, day);
  insz.digits_ = std::move(digits);
  return insz;
}

bool is_valid_insz_digits(std::string_view digits) {
  if (digits.size() != 11) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  const int month = static_cast<int>(number(digits.substr(2, 2)));
  return month_allowed(month) && matching_century(digits) != 0;
}

std::ostream& operator<<(std::ostream& out, const Insz&) {
  return out << "<insz>";
}

}  // namespace kbix
