#include "kbix/office/password.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <concepts>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace {

using kbix::office::FilePassword;

template <class T>
concept Streamable = requires(std::ostream& out, const T& value) {
  out << value;
};
static_assert(!Streamable<FilePassword>, "a password must not be printable by accident");
static_assert(!std::convertible_to<FilePassword, std::string>);
static_assert(!std::convertible_to<FilePassword, std::string_view>);
static_assert(!std::copy_constructible<FilePassword>);

TEST(FilePassword, HasThreeGroupsOfSevenFromTheAlphabet) {
  auto password = FilePassword::generate();
  ASSERT_TRUE(password) << password.error().describe();
  const std::string_view text = password->reveal();
  ASSERT_EQ(text.size(), 23u);
  EXPECT_EQ(text[7], '-');
  EXPECT_EQ(text[15], '-');
  EXPECT_EQ(text.data()[text.size()], '\0');  // usable as a C string
  for (std::size_t i = 0; i < text.size(); ++i)
    if (i != 7 && i != 15) {
      EXPECT_NE(FilePassword::kAlphabet.find(text[i]), std::string_view::npos) << "at " << i;
    }
  EXPECT_TRUE(FilePassword::from_text(text));
}

TEST(FilePassword, TheAlphabetHasNoLookAlikes) {
  for (const char c : std::string_view("0Oo1lIiQ"))
    EXPECT_EQ(FilePassword::kAlphabet.find(c), std::string_view::npos) << c;
  EXPECT_EQ(std::set<char>(FilePassword::kAlphabet.begin(), FilePassword::kAlphabet.end()).size(),
            FilePassword::kAlphabet.size());
}

TEST(FilePassword, StatedEntropyIsAtLeast100BitsAndTrue) {
  const double bits = static_cast<double>(FilePassword::kRandomCharacters) *
                      std::log2(static_cast<double>(FilePassword::kAlphabet.size()));
  EXPECT_GE(FilePassword::kEntropyBits, 100.0);
  EXPECT_LE(FilePassword::kEntropyBits, bits);
  EXPECT_GT(FilePassword::kEntropyBits, bits - 1.0);
}

TEST(FilePassword, EachFileGetsItsOwnAndEveryCharacterOccurs) {
  std::set<std::string> seen;
  std::map<char, int> counts;
  for (int i = 0; i < 500; ++i) {
    auto password = FilePassword::generate();
    ASSERT_TRUE(password);
    seen.emplace(password->reveal());
    for (const char c : password->reveal()) ++counts[c];
  }
  EXPECT_EQ(seen.size(), 500u);
  // 10500 draws: a character that never occurs would mean a broken sampler ((29/30)^10500 ≈ 0).
  for (const char c : FilePassword::kAlphabet) EXPECT_GT(counts[c], 0) << c;
}

TEST(FilePassword, RejectionSamplingDropsTheBytesThatWouldBias) {
  // For 30 characters bytes 240..255 must be dropped: 256 = 8 × 30 + 16.
  std::vector<std::uint8_t> source{239, 240, 255, 0, 241, 29, 30, 59, 60, 250, 209, 90};
  std::size_t next = 0;
  auto random = [&](std::span<std::uint8_t> out) -> kbix::Status {
    for (auto& byte : out) byte = next < source.size() ? source[next++] : 255;
    return kbix::ok();
  };
  // Kept as they come, the dropped bytes would show up as 0, 15, 1 and 10.
  std::vector<std::uint8_t> indices(8);
  ASSERT_TRUE(kbix::office::uniform_indices(30, indices, random));
  EXPECT_EQ(indices, (std::vector<std::uint8_t>{29, 0, 29, 0, 29, 0, 29, 0}));
}

TEST(FilePassword, RandomFailureIsAnError) {
  std::vector<std::uint8_t> indices(4);
  auto broken = [](std::span<std::uint8_t>) -> kbix::Status {
    return kbix::fail("office.random", "no entropy");
  };
  auto result = kbix::office::uniform_indices(30, indices, broken);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "office.random");
}

TEST(FilePassword, FromTextRefusesOtherShapesWithoutEchoingThem) {
  for (const std::string_view bad :
       {"ABCDEFG-HJKMNPR-STUVWX", "ABCDEFG-HJKMNPR-STUVWXYZ", "ABCDEFGHHJKMNPR-STUVWXY",
        "abcdefg-hjkmnpr-stuvwxy", "ABCDEFG-HJKMNPR-STUVWX0", "ABCDEFG HJKMNPR STUVWXY", ""}) {
    auto password = FilePassword::from_text(bad);
    ASSERT_FALSE(password) << bad;
    EXPECT_EQ(password.error().code, "office.password_shape");
    if (!bad.empty()) {
      EXPECT_EQ(password.error().message.find(bad), std::string::npos);
    }
  }
}

TEST(FilePassword, AMovedFromPasswordIsWiped) {
  auto generated = FilePassword::generate();
  ASSERT_TRUE(generated);
  const std::string copy(generated->reveal());
  FilePassword moved(std::move(*generated));
  EXPECT_EQ(moved.reveal(), copy);
  EXPECT_EQ(generated->reveal(), std::string(FilePassword::kLength, '\0'));  // NOLINT: moved
}

}  // namespace
