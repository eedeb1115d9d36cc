// INSZ rules (DESIGN.md §2) against public vectors (python-stdnum be/nn and be/bis doctests) and
// our own edge cases.
#include "kbix/domain/insz.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

namespace kbix {
namespace {

TEST(Insz, AcceptsPublicVectorsWithAndWithoutSeparators) {
  // python-stdnum be/nn: 1985 birth and a 2017 birth (the "2" prefix rule)
  for (const char* text : {"85073003328", "85.07.30-033.28", "85.07.30-033 28"}) {
    auto insz = Insz::parse(text);
    ASSERT_TRUE(insz) << text;
    EXPECT_EQ(insz->digits(), "85073003328");
    EXPECT_FALSE(insz->born_after_2000());
    EXPECT_FALSE(insz->is_bis());
  }
  auto young = Insz::parse("17.07.30-033.84");
  ASSERT_TRUE(young);
  EXPECT_TRUE(young->born_after_2000());
  EXPECT_EQ(young->value(), 17073003384ULL);
}

TEST(Insz, AcceptsBisNumbersWithMonthPlusTwentyAndForty) {
  // python-stdnum be/bis vectors
  auto plus_forty = Insz::parse("98.47.28-997.65");
  ASSERT_TRUE(plus_forty);
  EXPECT_TRUE(plus_forty->is_bis());
  auto plus_twenty_2000s = Insz::parse("01 49 07 001 85");
  ASSERT_TRUE(plus_twenty_2000s);
  EXPECT_TRUE(plus_twenty_2000s->is_bis());
  EXPECT_TRUE(plus_twenty_2000s->born_after_2000());
}

TEST(Insz, UnknownBirthDatesAreValidWithoutWarning) {
  for (const char* text : {"00000100166", "00000100195"}) {
    auto insz = Insz::parse(text);
    ASSERT_TRUE(insz) << text;
    EXPECT_FALSE(insz->has_calendar_warning());
  }
  EXPECT_FALSE(Insz::parse("00000100166")->born_after_2000());
  EXPECT_TRUE(Insz::parse("00000100195")->born_after_2000());
}

TEST(Insz, CalendarOdditiesAreWarningsNotRejections) {
  // 31 February 1985, serial 001: checksum made valid, the date impossible
  const std::string base = "850231001";
  const auto check = 97 - std::stoull(base) % 97;
  auto odd = Insz::parse(base + fmt::format("{:02}", check));
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->has_calendar_warning());
}

TEST(Insz, RejectsBadChecksumMonthsLengthsAndLetters) {
  EXPECT_EQ(Insz::parse("12345678901").error().code, "insz.month");  // month 34
  EXPECT_EQ(Insz::parse("85073003300").error().code, "insz.checksum");
  EXPECT_EQ(Insz::parse("85073003329").error().code, "insz.checksum");
  for (const char* month : {"851330", "853330", "855330"}) {  // months 13, 33, 53
    EXPECT_EQ(Insz::parse(std::string(month) + "03328").error().code, "insz.month") << month;
  }
  for (const char* text : {"8507300332", "850730033280", "8507300332a", "", "85..07.30-033.28",
                           "-85073003328", "85073003328-", "85 07 30 033 28 "}) {
    EXPECT_EQ(Insz::parse(text).error().code, "insz.format") << "'" << text << "'";
  }
}

TEST(Insz, ErrorMessagesNeverHoldTheNumber) {
  for (const char* text : {"85073003329", "85133003328", "8507300332x"}) {
    const auto error = Insz::parse(text).error();
    // no run of 4 or more of the input's digits in order, with or without separators
    std::string digits;
    for (const char c : error.message) {
      if (c >= '0' && c <= '9') digits += c;
    }
    const std::string input(text);
    for (std::size_t at = 0; at + 4 <= input.size(); ++at) {
      const std::string piece = input.substr(at, 4);
      if (piece.find_first_not_of("0123456789") != std::string::npos) continue;
      EXPECT_EQ(digits.find(piece), std::string::npos) << piece << " in: " << error.message;
    }
  }
}

TEST(Insz, PrintsAsPlaceholderThroughStreamsAndFmt) {
  auto insz = Insz::parse("85073003328");
  ASSERT_TRUE(insz);
  std::ostringstream out;
  out << *insz;
  EXPECT_EQ(out.str(), "<insz>");
  EXPECT_EQ(fmt::format("person {}", *insz), "person <insz>");
}

TEST(Insz, ValidDigitsCheckMatchesTheParser) {
  EXPECT_TRUE(is_valid_insz_digits("85073003328"));
  EXPECT_TRUE(is_valid_insz_digits("01490700185"));
  EXPECT_FALSE(is_valid_insz_digits("85073003329"));
  EXPECT_FALSE(is_valid_insz_digits("85.07.30-033.28"));
  EXPECT_FALSE(is_valid_insz_digits("8507300332"));
}

}  // namespace
}  // namespace kbix
