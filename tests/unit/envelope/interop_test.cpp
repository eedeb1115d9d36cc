// Interop with the stock `openssl cms` command line, both directions, every profile and key type.
// The commands are the ones docs/exchange-specification.md gives to the partner.
#include <gtest/gtest.h>

#include "kbix/core/digest.hpp"
#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

struct Case {
  std::string type;  // "rsa" or "ec"
  EnvelopeProfile profile;
};

// Readable names in test output instead of the bytes of the struct.
void PrintTo(const Case& value, std::ostream* out) {
  *out << value.type << "/" << to_string(value.profile);
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return info.param.type + "_" + std::string(to_string(info.param.profile));
}

// The options a partner adds after -recip for our recipient type.
std::string recipient_options(const std::string& type) {
  if (type == "rsa") {
    return " -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256";
  }
  return " -keyopt ecdh_kdf_md:sha256 -wrap id-aes256-wrap";
}

class InteropTest : public testing::TestWithParam<Case> {
 protected:
  TempDir dir;
  std::string plaintext = synthetic_csv(500);
};

TEST_P(InteropTest, KbixSealsAndOpensslCliOpens) {
  const auto& [type, profile] = GetParam();
  write_file(dir / "out.csv", plaintext);
  auto sealer = make_sealer(sealer_config("agii", "vdab", type, profile));
  ASSERT_TRUE(sealer.seal(dir / "out.csv", dir / "out.csv.p7m"));

  const std::string decrypt =
      "openssl cms -decrypt -binary -inform DER -in " + quoted(dir / "out.csv.p7m") + " -recip " +
      quoted(key_file("vdab-enc-" + type + ".crt")) + " -inkey " +
      quoted(key_file("vdab-enc-" + type + ".key")) + " -out " + quoted(dir / "signed.der");
  ASSERT_EQ(run(decrypt), 0) << decrypt;
  const std::string verify = "openssl cms -verify -binary -inform DER -in " +
                             quoted(dir / "signed.der") + " -CAfile " +
                             quoted(key_file("agii-sign-" + type + ".crt")) +
                             " -purpose any -out " + quoted(dir / "plain.csv") + " 2>/dev/null";
  ASSERT_EQ(run(verify), 0) << verify;
  EXPECT_EQ(read_file(dir / "plain.csv"), plaintext);

  // The CLI refuses the same file when told to trust another signer.
  const std::string wrong_signer =
      "openssl cms -verify -binary -inform DER -in " + quoted(dir / "signed.der") + " -CAfile " +
      quoted(key_file("vdab-sign-" + type + ".crt")) + " -purpose any -out /dev/null 2>/dev/null";
  EXPECT_NE(run(wrong_signer), 0);
}

// A file of many megabytes, sealed in many chunks: the stock CLI opens exactly the content, and the
// sizes and SHA-256 reported are those of the file on disk.
TEST(InteropLarge, KbixSealsAFileOfManyMegabytesAndOpensslCliOpensIt) {
  TempDir dir;
  const std::string plaintext = synthetic_csv(1'900'000);  // about 22 MB
  write_file(dir / "out.csv", plaintext);
  auto sealer = make_sealer(sealer_config("agii", "vdab", "rsa", EnvelopeProfile::gcm));
  auto sealed = sealer.seal(dir / "out.csv", dir / "out.csv.p7m");
  ASSERT_TRUE(sealed) << sealed.error().describe();
  EXPECT_EQ(sealed->plaintext_bytes, plaintext.size());
  EXPECT_EQ(sealed->sealed_bytes, fs::file_size(dir / "out.csv.p7m"));
  auto on_disk = sha256_file_hex(dir / "out.csv.p7m");
  ASSERT_TRUE(on_disk);
  EXPECT_EQ(sealed->sealed_sha256, *on_disk);

  const std::string open =
      "openssl cms -decrypt -binary -inform DER -in " + quoted(dir / "out.csv.p7m") + " -recip " +
      quoted(key_file("vdab-enc-rsa.crt")) + " -inkey " + quoted(key_file("vdab-enc-rsa.key")) +
      " | openssl cms -verify -binary -inform DER -CAfile " +
      quoted(key_file("agii-sign-rsa.crt")) + " -purpose any -out " + quoted(dir / "plain.csv") +
      " 2>/dev/null";
  ASSERT_EQ(run(open), 0) << open;
  EXPECT_TRUE(read_file(dir / "plain.csv") == plaintext);
}

TEST_P(InteropTest, OpensslCliSealsAndKbixOpens) {
  const auto& [type, profile] = GetParam();
  write_file(dir / "return.csv", plaintext);
  const std::string sign = "openssl cms -sign -binary -nodetach -md sha256 -in " +
                           quoted(dir / "return.csv") + " -signer " +
                           quoted(key_file("vdab-sign-" + type + ".crt")) + " -inkey " +
                           quoted(key_file("vdab-sign-" + type + ".key")) + " -outform DER -out " +
                           quoted(dir / "signed.der");
  ASSERT_EQ(run(sign), 0) << sign;
  const std::string cipher = profile == EnvelopeProfile::gcm ? "-aes-256-gcm" : "-aes-256-cbc";
  const std::string encrypt =
      "openssl cms -encrypt -binary " + cipher + " -in " + quoted(dir / "signed.der") + " -recip " +
      quoted(key_file("agii-enc-" + type + ".crt")) + recipient_options(type) +
      " -outform DER -out " + quoted(dir / "return.csv.p7m");
  ASSERT_EQ(run(encrypt), 0) << encrypt;

  auto opener = make_opener(opener_config("agii", "vdab", type));
  auto report = opener.open(dir / "return.csv.p7m", dir / "opened.csv");
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(read_file(dir / "opened.csv"), plaintext);
  EXPECT_EQ(report->profile, profile);
  EXPECT_EQ(report->plaintext_bytes, plaintext.size());
  auto pinned = Certificate::load(key_file("vdab-sign-" + type + ".crt"));
  ASSERT_TRUE(pinned);
  EXPECT_EQ(report->signer_fingerprint_sha256, pinned->fingerprint_sha256());
}

INSTANTIATE_TEST_SUITE_P(Profiles, InteropTest,
                         testing::Values(Case{"rsa", EnvelopeProfile::gcm},
                                         Case{"ec", EnvelopeProfile::gcm},
                                         Case{"rsa", EnvelopeProfile::cbc},
                                         Case{"ec", EnvelopeProfile::cbc}),
                         case_name);

}  // namespace
}  // namespace kbix::test
