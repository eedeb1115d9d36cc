// The INSZ rule written out again, independently of kbix's insz module, as the oracle of tests
// and fuzz targets (DESIGN.md section 2): 11 digits YYMMDD SSS CC, month 00-12 or BIS +20/+40,
// CC = 97 - (first nine digits mod 97), or the same with a 2 before the nine (born from 2000).
#pragma once

#include <cstdint>
#include <string_view>

namespace kbix::test {

inline bool independently_valid_insz(std::string_view digits) {
  if (digits.size() != 11) return false;
  std::uint64_t nine = 0;
  for (std::size_t i = 0; i < 11; ++i) {
    if (digits[i] < '0' || digits[i] > '9') return false;
    if (i < 9) nine = nine * 10 + static_cast<std::uint64_t>(digits[i] - '0');
  }
  const int month = (digits[2] - '0') * 10 + (digits[3] - '0');
  const std::uint64_t check =
      static_cast<std::uint64_t>((digits[9] - '0') * 10 + (digits[10] - '0'));
  const bool month_ok = month <= 12 || (month >= 20 && month <= 32) || (month >= 40 && month <= 52);
  return month_ok && (97 - nine % 97 == check || 97 - (2'000'000'000ULL + nine) % 97 == check);
}

}  // namespace kbix::test
