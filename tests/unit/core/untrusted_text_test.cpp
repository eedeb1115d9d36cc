// The sanitiser of untrusted text (invariant 16) and the replacing JSON dump.
#include "kbix/core/untrusted_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kbix {
namespace {

TEST(UntrustedText, KeepsPrintableUtf8) {
  EXPECT_EQ(sanitize_untrusted_text("VDAB sftp: é ü € 𝄞 ok"), "VDAB sftp: é ü € 𝄞 ok");
  EXPECT_TRUE(is_safe_text("plain text"));
}

TEST(UntrustedText, EscapesControlsAndEscape) {
  EXPECT_EQ(sanitize_untrusted_text("a\x1b[31mred\r\nb\tc\x7f\\"),
            "a\\x1b[31mred\\x0d\\x0ab\\x09c\\x7f\\");
  EXPECT_EQ(sanitize_untrusted_text(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_FALSE(is_safe_text("\x1b]0;title\x07"));
}

TEST(UntrustedText, EscapesC1ControlsAndBidiOverrides) {
  EXPECT_EQ(sanitize_untrusted_text("\xC2\x9B"
                                    "2J"),
            "\\u{9b}2J");  // the one-byte CSI
  EXPECT_EQ(sanitize_untrusted_text("abc\xE2\x80\xAE"
                                    "fed"),
            "abc\\u{202e}fed");
  EXPECT_EQ(sanitize_untrusted_text("\xE2\x81\xA6x"), "\\u{2066}x");
}

TEST(UntrustedText, ReplacesEveryInvalidByte) {
  EXPECT_EQ(sanitize_untrusted_text("a\xff"
                                    "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_untrusted_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(sanitize_untrusted_text("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_untrusted_text("\xF4\x90\x80\x80").size(), 12u);  // above U+10FFFF
  EXPECT_EQ(sanitize_untrusted_text("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(UntrustedText, IsBoundedAndCutsOnACharacterBoundary) {
  const std::string long_text(10000, 'x');
  const auto shown = sanitize_untrusted_text(long_text, 64);
  EXPECT_EQ(shown.size(), 64u);
  EXPECT_TRUE(shown.ends_with("..."));
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "€";
  const auto cut = sanitize_untrusted_text(euros, 20);
  EXPECT_LE(cut.size(), 20u);
  EXPECT_TRUE(is_safe_text(cut, 20)) << "still valid UTF-8 after the cut";
  EXPECT_EQ(sanitize_untrusted_text(std::string(64, 'y'), 64), std::string(64, 'y'));
  EXPECT_EQ(sanitize_untrusted_text(std::string(600, 'z')).size(), kMaxUntrustedTextBytes);
}

TEST(UntrustedText, OutputIsAFixedPoint) {
  for (const std::string input : {"\x1b\xff\xC2\x9B\\", "\xE2\x80\xAE€x", "ok"}) {
    const auto once = sanitize_untrusted_text(input);
    EXPECT_EQ(sanitize_untrusted_text(once), once) << once;
  }
}

TEST(DumpJson, ReplacesInvalidUtf8InsteadOfThrowing) {
  const nlohmann::json value = {{"message", std::string("banner \xff\xfe")}};
  EXPECT_THROW((void)value.dump(), nlohmann::json::type_error) << "nlohmann's default throws";
  EXPECT_EQ(dump_json(value), "{\"message\":\"banner \xEF\xBF\xBD\xEF\xBF\xBD\"}");
  EXPECT_EQ(dump_json({{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}

}  // namespace
}  // namespace kbix
