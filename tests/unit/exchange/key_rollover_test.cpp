// Certificate rollover with overlap: the newest valid partner encryption certificate is sealed
// to, every listed partner signer is accepted inside its own validity only, our previous
// decryption keys open older files, and `keys check` shows (and warns about) the overlap.
#include <gtest/gtest.h>

#include "kbix/config/config.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

// A fresh P-256 key and a self-signed certificate for `use` ("sign" or "enc") valid from
// `from_days` to `to_days` relative to now (negative: in the past). Returns the certificate.
fs::path make_certificate(const TempDir& dir, const std::string& name, const std::string& use,
                          long from_days, long to_days) {
  const auto key = dir / (name + ".key");
  const auto draft = dir / (name + ".draft.crt");
  const std::string usage = use == "sign" ? "digitalSignature" : "keyAgreement";
  const int status = run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                         quoted(key) + " 2>/dev/null && chmod 600 " + quoted(key) +
                         " && openssl req -new -x509 -sha256 -days 1 -key " + quoted(key) +
                         " -out " + quoted(draft) + " -subj '/O=TEST ONLY/CN=" + name +
                         "' -addext 'keyUsage=critical," + usage + "' 2>/dev/null");
  if (status != 0) throw std::runtime_error("openssl failed for " + name);
  const auto certificate = dir / (name + ".crt");
  write_shifted_certificate(draft, key, from_days, to_days, certificate);
  return certificate;
}

fs::path key_of(const fs::path& certificate) {
  return fs::path(certificate).replace_extension(".key");
}

std::string fingerprint(const fs::path& certificate) {
  return Certificate::load(certificate)->fingerprint_sha256();
}

// AgII's side as the configuration file gives it, with the example keys.
Config agii_config() {
  Config config;
  config.keys.signing_certificate = key_file("agii-sign-ec.crt");
  config.keys.signing_key = key_file("agii-sign-ec.key");
  config.keys.decryption_certificate = key_file("agii-enc-ec.crt");
  config.keys.decryption_key = key_file("agii-enc-ec.key");
  config.partner.name = "VDAB";
  config.partner.encryption_certificates = {key_file("vdab-enc-ec.crt")};
  config.partner.signing_certificates = {key_file("vdab-sign-ec.crt")};
  return config;
}

class RolloverTest : public testing::Test {
 protected:
  TempDir dir;

  fs::path plain() {
    write_file(dir / "plain.csv", synthetic_csv(20));
    return dir / "plain.csv";
  }
  // The partner seals a return to AgII, signed with `signer`.
  fs::path partner_return(const fs::path& signer, const std::string& name) {
    SealerConfig sealer;
    sealer.signing_certificate = signer;
    sealer.signing_key = key_of(signer);
    sealer.recipient_certificates = {key_file("agii-enc-ec.crt")};
    EXPECT_TRUE(make_sealer(sealer).seal(plain(), dir / name));
    return dir / name;
  }
};

TEST_F(RolloverTest, TheNewestValidCertificateIsChosen) {
  const auto expired = make_certificate(dir, "expired", "enc", -400, -1);
  const auto older = make_certificate(dir, "older", "enc", -300, 100);
  const auto newer = make_certificate(dir, "newer", "enc", -2, 700);
  const auto future = make_certificate(dir, "future", "enc", 5, 800);
  auto chosen = newest_valid_certificate({expired, newer, older, future});
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*chosen, newer);
  EXPECT_EQ(*newest_valid_certificate({older, expired}), older);
  // Nothing valid: the last listed, so that using it names the reason.
  EXPECT_EQ(*newest_valid_certificate({expired, future}), future);
  EXPECT_FALSE(newest_valid_certificate({}));
}

TEST_F(RolloverTest, OutboundFilesAreSealedToTheNewestValidPartnerCertificate) {
  const auto old_enc = make_certificate(dir, "vdab-old-enc", "enc", -300, 30);
  const auto new_enc = make_certificate(dir, "vdab-new-enc", "enc", -1, 700);
  const auto expired = make_certificate(dir, "vdab-expired-enc", "enc", -900, -10);
  Config config = agii_config();
  config.partner.encryption_certificates = {expired, new_enc, old_enc};
  auto sealer = outbound_sealer_config(config);
  ASSERT_TRUE(sealer) << sealer.error().describe();
  EXPECT_EQ(sealer->recipient_certificates.front(), new_enc);
  ASSERT_TRUE(make_sealer(*sealer).seal(plain(), dir / "out.p7m"));

  OpenerConfig partner;
  partner.our_certificate = new_enc;
  partner.our_key = key_of(new_enc);
  partner.pinned_signer_certificates = {key_file("agii-sign-ec.crt")};
  EXPECT_TRUE(make_opener(partner).open(dir / "out.p7m", dir / "new.csv"));
  partner.our_certificate = old_enc;
  partner.our_key = key_of(old_enc);
  auto old_reads = make_opener(partner).open(dir / "out.p7m", dir / "old.csv");
  ASSERT_FALSE(old_reads);
  EXPECT_EQ(old_reads.error().code, "envelope.not_for_us");

  // Only expired entries: sealing refuses, naming the reason.
  config.partner.encryption_certificates = {expired};
  auto refused = Sealer::create(*outbound_sealer_config(config));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.recipient_expired");
}

TEST_F(RolloverTest, EveryListedSignerIsAcceptedOnlyInsideItsValidity) {
  const auto old_sign = make_certificate(dir, "vdab-old-sign", "sign", -300, 30);
  const auto new_sign = make_certificate(dir, "vdab-new-sign", "sign", -1, 700);
  const auto expired = make_certificate(dir, "vdab-expired-sign", "sign", -900, -10);
  Config config = agii_config();
  config.partner.signing_certificates = {old_sign, new_sign, expired};
  const auto opener = make_opener(return_opener_config(config));

  for (const auto& signer : {old_sign, new_sign}) {
    const auto sealed = partner_return(signer, signer.stem().string() + ".p7m");
    auto opened = opener.open(sealed, dir / "r.csv");
    ASSERT_TRUE(opened) << opened.error().describe();
    EXPECT_EQ(opened->signer_fingerprint_sha256, fingerprint(signer));
    EXPECT_EQ(opened->decryption_fingerprint_sha256, fingerprint(key_file("agii-enc-ec.crt")));
  }
  auto refused = opener.open(partner_return(expired, "expired.p7m"), dir / "x.csv");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.signer_expired") << refused.error().describe();
  EXPECT_FALSE(fs::exists(dir / "x.csv"));

  // A signer that is not listed at all is still unknown.
  config.partner.signing_certificates = {new_sign};
  auto unlisted = make_opener(return_opener_config(config))
                      .open(partner_return(old_sign, "old-again.p7m"), dir / "y.csv");
  ASSERT_FALSE(unlisted);
  EXPECT_EQ(unlisted.error().code, "envelope.unknown_signer");
}

TEST_F(RolloverTest, ASnapshotSealedBeforeAKeyRotationOpensWithThePreviousKey) {
  // Before the rotation: AgII's current keys are the example ones.
  const Config before = agii_config();
  ASSERT_TRUE(make_sealer(snapshot_sealer_config(before)).seal(plain(), dir / "snapshot.p7m"));

  // The rotation: new decryption and signing keys; the old ones become "previous".
  Config after = before;
  after.keys.decryption_certificate = make_certificate(dir, "agii-new-enc", "enc", -1, 700);
  after.keys.decryption_key = key_of(after.keys.decryption_certificate);
  after.keys.signing_certificate = make_certificate(dir, "agii-new-sign", "sign", -1, 700);
  after.keys.signing_key = key_of(after.keys.signing_certificate);

  auto without = make_opener(own_file_opener_config(after)).open(dir / "snapshot.p7m", dir / "a");
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().code, "envelope.not_for_us");

  after.keys.previous_decryption_keys = {
      {key_file("agii-enc-ec.crt"), key_file("agii-enc-ec.key")}};
  auto unsigned_by_pin =
      make_opener(own_file_opener_config(after)).open(dir / "snapshot.p7m", dir / "b");
  ASSERT_FALSE(unsigned_by_pin);
  EXPECT_EQ(unsigned_by_pin.error().code, "envelope.unknown_signer");

  after.keys.previous_signing_certificates = {key_file("agii-sign-ec.crt")};
  auto opened = make_opener(own_file_opener_config(after)).open(dir / "snapshot.p7m", dir / "c");
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(read_file(dir / "c"), synthetic_csv(20));
  EXPECT_EQ(opened->decryption_fingerprint_sha256, fingerprint(key_file("agii-enc-ec.crt")));
  EXPECT_EQ(opened->signer_fingerprint_sha256, fingerprint(key_file("agii-sign-ec.crt")));

  // New snapshots go to the new key only.
  ASSERT_TRUE(make_sealer(snapshot_sealer_config(after)).seal(plain(), dir / "new.p7m"));
  auto fresh = make_opener(own_file_opener_config(after)).open(dir / "new.p7m", dir / "d");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->decryption_fingerprint_sha256, fingerprint(after.keys.decryption_certificate));
  auto old_only = make_opener(own_file_opener_config(before)).open(dir / "new.p7m", dir / "e");
  ASSERT_FALSE(old_only);
  EXPECT_EQ(old_only.error().code, "envelope.not_for_us");
}

TEST_F(RolloverTest, OurOwnFilesNeedASignerValidWhenItSigned) {
  // Signed with a certificate that had already expired: refused, naming the signing time.
  Config config = agii_config();
  config.keys.signing_certificate = make_certificate(dir, "agii-lapsed-sign", "sign", -900, -10);
  config.keys.signing_key = key_of(config.keys.signing_certificate);
  ASSERT_TRUE(make_sealer(snapshot_sealer_config(config)).seal(plain(), dir / "s.p7m"));
  auto refused = make_opener(own_file_opener_config(config)).open(dir / "s.p7m", dir / "s.csv");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.signer_expired");
  EXPECT_NE(refused.error().message.find("signing time"), std::string::npos);
}

TEST_F(RolloverTest, PreviousKeysMustMatchTheirCertificates) {
  Config config = agii_config();
  config.keys.previous_decryption_keys = {
      {key_file("agii-enc-rsa.crt"), key_file("agii-enc-ec.key")}};
  auto opener = Opener::create(own_file_opener_config(config));
  ASSERT_FALSE(opener);
  EXPECT_EQ(opener.error().code, "envelope.key_mismatch");
}

const KeyCheckLine& line_of(const KeyCheckReport& report, const std::string& label) {
  for (const auto& line : report.lines) {
    if (line.label == label) return line;
  }
  throw std::runtime_error("no line " + label);
}

TEST_F(RolloverTest, KeysCheckShowsTheOverlapAndWarnsAboutAListOfExpiredEntries) {
  const auto old_enc = make_certificate(dir, "vdab-old-enc", "enc", -390, 10);
  const auto new_enc = make_certificate(dir, "vdab-new-enc", "enc", -1, 700);
  const auto old_sign = make_certificate(dir, "vdab-old-sign", "sign", -390, -1);
  const auto new_sign = make_certificate(dir, "vdab-new-sign", "sign", -1, 700);
  const auto previous = make_certificate(dir, "agii-old-enc", "enc", -2000, -200);
  Config config = agii_config();
  config.partner.encryption_certificates = {old_enc, new_enc};
  config.partner.signing_certificates = {old_sign, new_sign};
  config.keys.previous_decryption_keys = {{previous, key_of(previous)}};

  auto report = check_keys(key_check_items(config), std::nullopt, 60);
  EXPECT_TRUE(report.ok()) << report.to_text();
  const auto text = report.to_text();
  // The entry used now, and the old one covered by the overlap (a warning, not a failure).
  EXPECT_NE(line_of(report, "partner VDAB encryption certificate #2").text.find("used now"),
            std::string::npos)
      << text;
  const auto& old_enc_line = line_of(report, "partner VDAB encryption certificate #1");
  EXPECT_TRUE(old_enc_line.ok && old_enc_line.warning) << text;
  EXPECT_NE(old_enc_line.text.find("warning period"), std::string::npos) << text;
  const auto& old_sign_line = line_of(report, "partner VDAB signing certificate #1 (pinned)");
  EXPECT_TRUE(old_sign_line.ok && old_sign_line.warning) << text;
  EXPECT_NE(text.find("WARN partner VDAB signing certificate #1 (pinned): sha256:" +
                      fingerprint(old_sign)),
            std::string::npos)
      << text;
  EXPECT_NE(line_of(report, "partner VDAB signing certificate #2 (pinned)").text.find("accepted"),
            std::string::npos);
  // An earlier key of ours has expired on purpose: shown, not a problem.
  const auto& previous_line = line_of(report, "our previous decryption certificate #1");
  EXPECT_TRUE(previous_line.ok && !previous_line.warning) << text;
  EXPECT_NE(previous_line.text.find("previous, opens older files (EXPIRED)"), std::string::npos);

  // Only expired or soon-expiring entries left in the signing list: FAIL, with a summary line.
  config.partner.signing_certificates = {old_sign, old_enc};
  auto stale = check_keys(key_check_items(config), std::nullopt, 60);
  EXPECT_FALSE(stale.ok());
  EXPECT_FALSE(line_of(stale, "partner VDAB signing certificate #1 (pinned)").ok);
  const auto& summary = line_of(stale, "partner VDAB signing certificates");
  EXPECT_FALSE(summary.ok);
  EXPECT_NE(summary.text.find("only expired"), std::string::npos) << stale.to_text();

  // A previous key that does not match its certificate fails like a current one.
  config.partner.signing_certificates = {new_sign};
  config.keys.previous_decryption_keys = {{previous, key_file("agii-enc-ec.key")}};
  auto mismatch = check_keys(key_check_items(config), std::nullopt, 60);
  EXPECT_FALSE(line_of(mismatch, "our previous decryption certificate #1").ok);
}

}  // namespace
}  // namespace kbix::test
