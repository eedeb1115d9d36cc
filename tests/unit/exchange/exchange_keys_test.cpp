// The keys of an exchange: the sealers and openers of a run as the configuration gives them, and
// the `kbix keys check` report.
#include "kbix/exchange/exchange_keys.hpp"

#include <gtest/gtest.h>

#include "kbix/config/config.hpp"
#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

// A configuration as config.toml would give it, pointing at the example keys (AgII's view).
Config example_config() {
  Config config;
  config.keys.signing_certificate = key_file("agii-sign-rsa.crt");
  config.keys.signing_key = key_file("agii-sign-rsa.key");
  config.keys.decryption_certificate = key_file("agii-enc-rsa.crt");
  config.keys.decryption_key = key_file("agii-enc-rsa.key");
  config.partner.name = "VDAB";
  config.partner.encryption_certificate = key_file("vdab-enc-ec.crt");
  config.partner.signing_certificate = key_file("vdab-sign-ec.crt");
  config.partner.envelope_profile = "cbc";
  return config;
}

TEST(EnvelopeConfigTest, RunConfigurationsComeFromTheConfigFile) {
  TempDir dir;
  const Config config = example_config();
  write_file(dir / "out.csv", synthetic_csv(10));

  // Outbound: the partner's profile, readable by the partner AND by us.
  auto outbound = outbound_sealer_config(config);
  ASSERT_TRUE(outbound) << outbound.error().describe();
  EXPECT_EQ(outbound->profile, EnvelopeProfile::cbc);
  ASSERT_TRUE(make_sealer(*outbound).seal(dir / "out.csv", dir / "out.p7m"));
  auto vdab = opener_config("vdab", "agii", "ec");
  vdab.pinned_signer_certificates = {key_file("agii-sign-rsa.crt")};
  auto theirs = make_opener(vdab).open(dir / "out.p7m", dir / "theirs.csv");
  ASSERT_TRUE(theirs) << theirs.error().describe();
  EXPECT_EQ(theirs->profile, EnvelopeProfile::cbc);
  ASSERT_TRUE(make_opener(own_file_opener_config(config)).open(dir / "out.p7m", dir / "o.csv"));

  // Snapshot: gcm, and the partner cannot read it.
  ASSERT_TRUE(make_sealer(snapshot_sealer_config(config)).seal(dir / "out.csv", dir / "s.p7m"));
  auto snapshot = make_opener(own_file_opener_config(config)).open(dir / "s.p7m", dir / "s.csv");
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->profile, EnvelopeProfile::gcm);
  auto refused = make_opener(vdab).open(dir / "s.p7m", dir / "x.csv");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.not_for_us");

  // Returns: the partner's signature is pinned, ours is not accepted as a return.
  auto returns = make_opener(return_opener_config(config));
  auto own_as_return = returns.open(dir / "out.p7m", dir / "r.csv");
  ASSERT_FALSE(own_as_return);
  EXPECT_EQ(own_as_return.error().code, "envelope.unknown_signer");

  auto bad = config;
  bad.partner.envelope_profile = "ecb";
  EXPECT_FALSE(outbound_sealer_config(bad));

  auto items = key_check_items(config);
  ASSERT_EQ(items.size(), 4U);  // one-element lists, no previous keys
  auto report = check_keys(items, std::nullopt, 60);
  EXPECT_TRUE(report.ok()) << report.to_text();
  EXPECT_NE(report.to_text().find("partner VDAB signing certificate"), std::string::npos);
}

TEST(KeysTest, KeysCheckReport) {
  TempDir dir;
  std::vector<KeyCheckItem> items = {
      {"signing", key_file("agii-sign-rsa.crt"), key_file("agii-sign-rsa.key")},
      {"partner encryption", key_file("vdab-enc-ec.crt"), std::nullopt},
  };
  auto report = check_keys(items, std::nullopt, 60);
  EXPECT_TRUE(report.ok()) << report.to_text();
  ASSERT_EQ(report.lines.size(), 2U);
  const std::string text = report.to_text();
  EXPECT_NE(text.find(Certificate::load(key_file("agii-sign-rsa.crt"))->fingerprint_sha256()),
            std::string::npos);
  EXPECT_NE(text.find("days left"), std::string::npos);
  EXPECT_EQ(text.rfind("OK   signing: sha256:", 0), 0U) << text;

  // Within the warning period (the example certificates live 400 days).
  auto warned = check_keys(items, std::nullopt, 500);
  EXPECT_FALSE(warned.ok());
  EXPECT_NE(warned.to_text().find("warning period"), std::string::npos);

  write_shifted_certificate(key_file("vdab-enc-ec.crt"), key_file("vdab-enc-ec.key"), -30, -1,
                            dir / "expired.crt");
  auto expired = check_keys({{"old", dir / "expired.crt", std::nullopt}}, std::nullopt, 0);
  EXPECT_FALSE(expired.ok());
  EXPECT_NE(expired.to_text().find("EXPIRED"), std::string::npos);

  auto mismatch = check_keys(
      {{"mixed", key_file("agii-sign-rsa.crt"), key_file("vdab-sign-rsa.key")}}, std::nullopt, 0);
  EXPECT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.to_text().find("does not match"), std::string::npos);

  auto missing = check_keys({{"gone", dir / "missing.crt", std::nullopt}}, std::nullopt, 0);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.to_text().find("keys.unreadable"), std::string::npos);
}

}  // namespace
}  // namespace kbix::test
