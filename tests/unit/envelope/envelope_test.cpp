// Sealer and Opener behaviour: round trips, recipient checks, typed refusals, nothing partial.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

class EnvelopeTest : public testing::Test {
 protected:
  TempDir dir;
  std::string plaintext = synthetic_csv(200);

  fs::path seal(const SealerConfig& config, const std::string& name = "out.csv.p7m") {
    write_file(dir / "plain.csv", plaintext);
    auto sealer = make_sealer(config);
    auto report = sealer.seal(dir / "plain.csv", dir / name);
    if (!report) throw std::runtime_error(report.error().describe());
    return dir / name;
  }

  // Opening fails with `code`, and neither the output nor any temporary file is left behind.
  void expect_open_fails(const OpenerConfig& config, const fs::path& sealed,
                         const std::string& code) {
    const auto before = entries(dir.path());
    auto opener = make_opener(config);
    auto result = opener.open(sealed, dir / "opened.csv");
    ASSERT_FALSE(result) << "opened although " << code << " was expected";
    EXPECT_EQ(result.error().code, code) << result.error().describe();
    EXPECT_FALSE(fs::exists(dir / "opened.csv"));
    EXPECT_EQ(entries(dir.path()).size(), before.size());
  }
};

TEST_F(EnvelopeTest, RoundTripsEveryProfileAndKeyType) {
  for (const std::string type : {"rsa", "ec"}) {
    for (const auto profile : {EnvelopeProfile::gcm, EnvelopeProfile::cbc}) {
      SCOPED_TRACE(type + " " + std::string(to_string(profile)));
      const auto sealed = seal(sealer_config("agii", "vdab", type, profile));
      EXPECT_EQ(read_file(sealed).find("insz"), std::string::npos);  // nothing readable
      auto report = make_opener(opener_config("vdab", "agii", type)).open(sealed, dir / "o.csv");
      ASSERT_TRUE(report) << report.error().describe();
      EXPECT_EQ(read_file(dir / "o.csv"), plaintext);
      EXPECT_EQ(report->profile, profile);
      EXPECT_EQ(report->plaintext_bytes, plaintext.size());
      EXPECT_EQ(report->signer_fingerprint_sha256,
                Certificate::load(key_file("agii-sign-" + type + ".crt"))->fingerprint_sha256());
    }
  }
}

TEST_F(EnvelopeTest, SealedFilesAreMode0600) {
  const auto sealed = seal(sealer_config("agii", "vdab", "ec", EnvelopeProfile::gcm));
  struct stat info {};
  ASSERT_EQ(::stat(sealed.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
}

TEST_F(EnvelopeTest, OpeningLeavesOnlyTheOutputBehind) {
  const auto sealed = seal(sealer_config("agii", "vdab", "ec", EnvelopeProfile::gcm));
  ASSERT_TRUE(make_opener(opener_config("vdab", "agii", "ec")).open(sealed, dir / "o.csv"));
  auto names = entries(dir.path());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"o.csv", "out.csv.p7m", "plain.csv"}));
  struct stat info {};
  ASSERT_EQ(::stat((dir / "o.csv").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
}

TEST_F(EnvelopeTest, FailedSealLeavesNothingAndAnOldFileIsReplacedWhole) {
  auto sealer = make_sealer(sealer_config("agii", "vdab", "ec", EnvelopeProfile::gcm));
  auto missing = sealer.seal(dir / "missing.csv", dir / "out.p7m");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "io.open");
  EXPECT_TRUE(entries(dir.path()).empty());

  write_file(dir / "out.p7m", "old contents");
  write_file(dir / "plain.csv", plaintext);
  ASSERT_TRUE(sealer.seal(dir / "plain.csv", dir / "out.p7m"));
  EXPECT_EQ(entries(dir.path()).size(), 2U);
  ASSERT_TRUE(
      make_opener(opener_config("vdab", "agii", "ec")).open(dir / "out.p7m", dir / "o.csv"));
  EXPECT_EQ(read_file(dir / "o.csv"), plaintext);
}

TEST_F(EnvelopeTest, EmptyAndMultiChunkFilesRoundTrip) {
  for (const int rows : {0, 300000}) {  // 0 bytes of data rows; about 3.6 MB (many chunks)
    plaintext = rows == 0 ? std::string() : synthetic_csv(rows);
    const auto sealed = seal(sealer_config("agii", "vdab", "rsa", EnvelopeProfile::gcm));
    auto report = make_opener(opener_config("vdab", "agii", "rsa")).open(sealed, dir / "o.csv");
    ASSERT_TRUE(report) << report.error().describe();
    EXPECT_EQ(read_file(dir / "o.csv"), plaintext);
  }
}

TEST_F(EnvelopeTest, OutboundFileIsReadableByBothRecipients) {
  auto config = sealer_config("agii", "vdab", "rsa", EnvelopeProfile::gcm);
  config.recipient_certificates.push_back(key_file("agii-enc-rsa.crt"));
  const auto sealed = seal(config);
  auto ours = opener_config("agii", "agii", "rsa");
  ASSERT_TRUE(make_opener(ours).open(sealed, dir / "ours.csv"));
  ASSERT_TRUE(make_opener(opener_config("vdab", "agii", "rsa")).open(sealed, dir / "theirs.csv"));
  EXPECT_EQ(read_file(dir / "ours.csv"), plaintext);
  EXPECT_EQ(read_file(dir / "theirs.csv"), plaintext);
}

TEST_F(EnvelopeTest, SnapshotSealedToOurOwnCertificateOnlyIsNotForThePartner) {
  const auto sealed = seal(sealer_config("agii", "agii", "rsa", EnvelopeProfile::gcm));
  expect_open_fails(opener_config("vdab", "agii", "rsa"), sealed, "envelope.not_for_us");
  ASSERT_TRUE(make_opener(opener_config("agii", "agii", "rsa")).open(sealed, dir / "o.csv"));
  EXPECT_EQ(read_file(dir / "o.csv"), plaintext);
}

TEST_F(EnvelopeTest, WrongSignerIsUnknown) {
  const auto sealed = seal(sealer_config("agii", "vdab", "rsa", EnvelopeProfile::gcm));
  // The file is signed by AgII, but this opener pins a different certificate.
  auto config = opener_config("vdab", "vdab", "rsa");
  expect_open_fails(config, sealed, "envelope.unknown_signer");
}

TEST_F(EnvelopeTest, ExpiredPinnedSignerIsRefused) {
  write_shifted_certificate(key_file("vdab-sign-ec.crt"), key_file("vdab-sign-ec.key"), -30, -1,
                            dir / "expired-sign.crt");
  write_file(dir / "return.csv", plaintext);
  ASSERT_EQ(run("openssl cms -sign -binary -nodetach -in " + quoted(dir / "return.csv") +
                " -signer " + quoted(dir / "expired-sign.crt") + " -inkey " +
                quoted(key_file("vdab-sign-ec.key")) + " -outform DER -out " +
                quoted(dir / "signed.der") + " && openssl cms -encrypt -binary -aes-256-gcm -in " +
                quoted(dir / "signed.der") + " -recip " + quoted(key_file("agii-enc-ec.crt")) +
                " -keyopt ecdh_kdf_md:sha256 -outform DER -out " + quoted(dir / "r.p7m")),
            0);
  fs::remove(dir / "signed.der");
  fs::remove(dir / "return.csv");
  auto config = opener_config("agii", "vdab", "ec");
  config.pinned_signer_certificates = {dir / "expired-sign.crt"};
  expect_open_fails(config, dir / "r.p7m", "envelope.signer_expired");
}

TEST_F(EnvelopeTest, RecipientCertificatesAreCheckedBeforeSealing) {
  write_shifted_certificate(key_file("vdab-enc-rsa.crt"), key_file("vdab-enc-rsa.key"), -30, -1,
                            dir / "expired.crt");
  write_shifted_certificate(key_file("vdab-enc-rsa.crt"), key_file("vdab-enc-rsa.key"), 2, 30,
                            dir / "future.crt");
  ASSERT_EQ(run("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=weak example' "
                "-keyout " +
                quoted(dir / "weak.key") + " -out " + quoted(dir / "weak.crt") + " 2>/dev/null"),
            0);
  ASSERT_EQ(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -days 30 "
                "-subj '/CN=odd curve example' -keyout " +
                quoted(dir / "k1.key") + " -out " + quoted(dir / "k1.crt") + " 2>/dev/null"),
            0);
  ASSERT_EQ(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 30 "
                "-subj '/CN=p384 example' -addext keyUsage=keyAgreement -keyout " +
                quoted(dir / "p384.key") + " -out " + quoted(dir / "p384.crt") + " 2>/dev/null"),
            0);
  auto p384 = sealer_config("agii", "vdab", "ec", EnvelopeProfile::gcm);
  p384.recipient_certificates = {dir / "p384.crt"};
  EXPECT_TRUE(Sealer::create(p384));
  const std::vector<std::pair<fs::path, std::string>> cases = {
      {dir / "k1.crt", "envelope.recipient_key_type"},
      {dir / "expired.crt", "envelope.recipient_expired"},
      {dir / "future.crt", "envelope.recipient_not_yet_valid"},
      {key_file("vdab-sign-rsa.crt"), "envelope.recipient_key_usage"},  // signing only
      {key_file("vdab-sign-ec.crt"), "envelope.recipient_key_usage"},
      {dir / "weak.crt", "envelope.recipient_weak_key"},
  };
  for (const auto& [certificate, code] : cases) {
    auto config = sealer_config("agii", "vdab", "rsa", EnvelopeProfile::gcm);
    config.recipient_certificates = {certificate};
    auto sealer = Sealer::create(config);
    ASSERT_FALSE(sealer) << certificate;
    EXPECT_EQ(sealer.error().code, code);
    const auto subject = Certificate::load(certificate)->subject();
    EXPECT_NE(sealer.error().message.find(subject), std::string::npos) << sealer.error().message;
  }
}

TEST_F(EnvelopeTest, NonCmsAndUnencryptedInputsAreNamed) {
  write_file(dir / "plain.csv", plaintext);
  expect_open_fails(opener_config("vdab", "agii", "rsa"), dir / "plain.csv", "envelope.not_cms");
  ASSERT_EQ(run("openssl cms -sign -binary -nodetach -in " + quoted(dir / "plain.csv") +
                " -signer " + quoted(key_file("agii-sign-rsa.crt")) + " -inkey " +
                quoted(key_file("agii-sign-rsa.key")) + " -outform DER -out " +
                quoted(dir / "signed-only.p7m")),
            0);
  expect_open_fails(opener_config("vdab", "agii", "rsa"), dir / "signed-only.p7m",
                    "envelope.not_encrypted");
}

TEST_F(EnvelopeTest, EncryptedButUnsignedContentIsRefused) {
  write_file(dir / "plain.csv", plaintext);
  ASSERT_EQ(run("openssl cms -encrypt -binary -aes-256-gcm -in " + quoted(dir / "plain.csv") +
                " -recip " + quoted(key_file("vdab-enc-ec.crt")) +
                " -keyopt ecdh_kdf_md:sha256 -outform DER -out " + quoted(dir / "unsigned.p7m")),
            0);
  expect_open_fails(opener_config("vdab", "agii", "ec"), dir / "unsigned.p7m",
                    "envelope.not_signed");
}

TEST_F(EnvelopeTest, TooLargeInputIsRefusedBeforeReading) {
  const auto sealed = seal(sealer_config("agii", "vdab", "ec", EnvelopeProfile::gcm));
  auto config = opener_config("vdab", "agii", "ec");
  config.max_input_bytes = 100;
  expect_open_fails(config, sealed, "envelope.too_large");
}

TEST_F(EnvelopeTest, KeyThatDoesNotMatchItsCertificateIsRefused) {
  auto config = opener_config("vdab", "agii", "rsa");
  config.our_key = key_file("agii-enc-rsa.key");
  auto opener = Opener::create(config);
  ASSERT_FALSE(opener);
  EXPECT_EQ(opener.error().code, "envelope.key_mismatch");
}

TEST_F(EnvelopeTest, GroupReadableKeyIsRefused) {
  fs::copy_file(key_file("agii-sign-ec.key"), dir / "sign.key");
  fs::permissions(dir / "sign.key", fs::perms(0640));
  auto config = sealer_config("agii", "vdab", "ec", EnvelopeProfile::gcm);
  config.signing_key = dir / "sign.key";
  auto sealer = Sealer::create(config);
  ASSERT_FALSE(sealer);
  EXPECT_EQ(sealer.error().code, "security.key_file_mode");
  EXPECT_NE(sealer.error().message.find("sign.key"), std::string::npos);
}

TEST_F(EnvelopeTest, ProfileNamesParse) {
  EXPECT_EQ(*parse_envelope_profile("gcm"), EnvelopeProfile::gcm);
  EXPECT_EQ(*parse_envelope_profile("cbc"), EnvelopeProfile::cbc);
  auto bad = parse_envelope_profile("ecb");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "envelope.bad_profile");
}

}  // namespace
}  // namespace kbix::test
