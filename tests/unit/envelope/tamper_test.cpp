// Tampering: any single flipped byte, any truncation and a shortened tag must stop the opener, and
// nothing readable may appear.
#include <gtest/gtest.h>

#include <set>

#include "kbix/envelope/cms_reader.hpp"
#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

class TamperTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    write_file(dir / "plain.csv", synthetic_csv(3));
    // One recipient: the unauthenticated RecipientInfos of OTHER recipients are not ours to check.
    auto sealer = make_sealer(sealer_config("agii", "vdab", GetParam(), EnvelopeProfile::gcm));
    ASSERT_TRUE(sealer.seal(dir / "plain.csv", dir / "good.p7m"));
    sealed = read_file(dir / "good.p7m");
  }

  Result<OpenReport> open_bytes(const std::string& bytes) {
    write_file(dir / "bad.p7m", bytes);
    return opener.open(dir / "bad.p7m", dir / "opened.csv");
  }

  TempDir dir;
  std::string sealed;
  Opener opener = make_opener(opener_config("vdab", "agii", GetParam()));
};

TEST_P(TamperTest, UntouchedFileOpens) {
  ASSERT_TRUE(open_bytes(sealed));
}

TEST_P(TamperTest, FlippingAnySingleByteFails) {
  ASSERT_GT(sealed.size(), 500U);
  const std::set<std::string> expected = {"envelope.not_cms",    "envelope.truncated",
                                          "envelope.malformed",  "envelope.not_encrypted",
                                          "envelope.not_for_us", "envelope.decrypt_failed",
                                          "envelope.integrity",  "envelope.short_tag"};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    auto result = open_bytes(bad);
    ASSERT_FALSE(result) << "flipped byte " << i << " of " << sealed.size() << " still opened";
    EXPECT_TRUE(expected.count(result.error().code)) << i << ": " << result.error().describe();
    seen.insert(result.error().code);
    ASSERT_FALSE(fs::exists(dir / "opened.csv"));
  }
  // The walker, the recipient match, the key unwrap and the GCM tag each caught some of them.
  std::string codes;
  for (const auto& code : seen) codes += code + " ";
  RecordProperty("codes", codes);
  EXPECT_TRUE(seen.count("envelope.integrity")) << codes;
  if (GetParam() == "ec") {
    // A damaged wrapped key fails the AES key unwrap. For RSA, OpenSSL answers a failed OAEP
    // decryption with a random key (a countermeasure against padding oracles), so the same damage
    // surfaces as envelope.integrity instead.
    EXPECT_TRUE(seen.count("envelope.decrypt_failed")) << codes;
  }
  EXPECT_TRUE(seen.count("envelope.malformed") || seen.count("envelope.truncated"));
  EXPECT_TRUE(seen.count("envelope.not_for_us"));
}

TEST_P(TamperTest, TruncationAtTwentyPointsFails) {
  for (int point = 1; point <= 20; ++point) {
    const std::size_t length = sealed.size() * static_cast<std::size_t>(point) / 21;
    auto result = open_bytes(sealed.substr(0, length));
    ASSERT_FALSE(result) << "truncated to " << length;
    EXPECT_EQ(result.error().code, "envelope.truncated") << length;
    EXPECT_FALSE(fs::exists(dir / "opened.csv"));
  }
  auto last_byte_gone = open_bytes(sealed.substr(0, sealed.size() - 1));
  ASSERT_FALSE(last_byte_gone);
  EXPECT_EQ(last_byte_gone.error().code, "envelope.truncated");
}

// OpenSSL accepts a GCM tag cut to 4 bytes (it verifies only what is there); we demand 16.
TEST_P(TamperTest, FourByteTagIsRefused) {
  MemorySource source(
      std::span(reinterpret_cast<const std::uint8_t*>(sealed.data()), sealed.size()));
  auto outline = outline_cms(source);
  ASSERT_TRUE(outline) << outline.error().describe();
  ASSERT_TRUE(outline->mac_offset);
  ASSERT_EQ(outline->mac_length, 16U);
  const std::size_t tag = static_cast<std::size_t>(*outline->mac_offset);
  ASSERT_EQ(sealed.substr(tag - 2, 2), std::string("\x04\x10", 2));
  // The sealer writes indefinite lengths around the tag, so only the tag's own header changes.
  const std::string shortened = sealed.substr(0, tag - 2) + std::string("\x04\x04", 2) +
                                sealed.substr(tag, 4) + sealed.substr(tag + 16);
  auto result = open_bytes(shortened);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "envelope.short_tag");
  EXPECT_FALSE(fs::exists(dir / "opened.csv"));
}

TEST_P(TamperTest, WrongRecipientKeyIsNotForUs) {
  auto other = make_opener(opener_config("agii", "agii", GetParam()));
  auto result = other.open(dir / "good.p7m", dir / "opened.csv");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "envelope.not_for_us");
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, TamperTest, testing::Values("rsa", "ec"));

}  // namespace
}  // namespace kbix::test
