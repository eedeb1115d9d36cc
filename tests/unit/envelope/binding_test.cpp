// Binding a return to its run (invariant 13) at the envelope: the agreed profile, and a signed
// signingTime inside the run's window. kbix's own sealer and the stock `openssl cms -sign` both
// set signingTime; a file without one is refused once a window is asked for.
#include <gtest/gtest.h>

#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::system_clock;

class BindingTest : public testing::Test {
 protected:
  TempDir dir;
  std::string plaintext = synthetic_csv(50);

  fs::path seal(EnvelopeProfile profile) {
    write_file(dir / "plain.csv", plaintext);
    auto sealer = make_sealer(sealer_config("vdab", "agii", "rsa", profile));
    EXPECT_TRUE(sealer.seal(dir / "plain.csv", dir / "return.p7m"));
    return dir / "return.p7m";
  }

  Result<OpenReport> open(const OpenerConfig& config, const fs::path& sealed) {
    return make_opener(config).open(sealed, dir / "opened.csv");
  }

  static OpenerConfig window(system_clock::time_point not_before,
                             system_clock::time_point not_after) {
    OpenerConfig config = opener_config("agii", "vdab", "rsa");
    config.signing_window = OpenerConfig::SigningWindow{not_before, not_after};
    return config;
  }
};

TEST_F(BindingTest, KbixSealerSetsASigningTimeOfNow) {
  const auto before = system_clock::now() - std::chrono::seconds(2);
  const auto sealed = seal(EnvelopeProfile::gcm);
  auto opened = open(opener_config("agii", "vdab", "rsa"), sealed);
  ASSERT_TRUE(opened) << opened.error().describe();
  ASSERT_TRUE(opened->signing_time.has_value()) << "CMS_sign must add signingTime";
  EXPECT_GE(*opened->signing_time, before);
  EXPECT_LE(*opened->signing_time, system_clock::now() + std::chrono::seconds(2));
  EXPECT_TRUE(fs::exists(dir / "opened.csv"));
}

TEST_F(BindingTest, ASignatureBeforeTheWindowIsStaleAndNothingIsWritten) {
  const auto sealed = seal(EnvelopeProfile::gcm);
  const auto now = system_clock::now();
  auto opened = open(window(now + hours(1), now + hours(2)), sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, "envelope.stale_signature") << opened.error().describe();
  EXPECT_FALSE(fs::exists(dir / "opened.csv"));
}

TEST_F(BindingTest, ASignatureAfterTheWindowIsFromTheFuture) {
  const auto sealed = seal(EnvelopeProfile::gcm);
  const auto now = system_clock::now();
  auto opened = open(window(now - hours(2), now - hours(1)), sealed);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, "envelope.future_signature") << opened.error().describe();
  EXPECT_FALSE(fs::exists(dir / "opened.csv"));
}

TEST_F(BindingTest, ASignatureInsideTheWindowOpens) {
  const auto sealed = seal(EnvelopeProfile::cbc);
  const auto now = system_clock::now();
  auto opened = open(window(now - minutes(10), now + minutes(10)), sealed);
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(read_file(dir / "opened.csv"), plaintext);
}

TEST_F(BindingTest, AFileWithoutSigningTimeIsRefusedWhenAWindowIsAsked) {
  // The stock CLI without signed attributes (-noattr): no signingTime at all.
  write_file(dir / "plain.csv", plaintext);
  ASSERT_EQ(run("openssl cms -sign -binary -noattr -nodetach -outform DER -in " +
                quoted(dir / "plain.csv") + " -signer " + quoted(key_file("vdab-sign-rsa.crt")) +
                " -inkey " + quoted(key_file("vdab-sign-rsa.key")) + " -out " +
                quoted(dir / "signed.der")),
            0);
  ASSERT_EQ(run("openssl cms -encrypt -binary -aes-256-gcm -inform DER -in " +
                quoted(dir / "signed.der") + " -recip " + quoted(key_file("agii-enc-rsa.crt")) +
                " -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt "
                "rsa_mgf1_md:sha256 -outform DER -out " +
                quoted(dir / "noattr.p7m")),
            0);
  const auto now = system_clock::now();
  auto refused = open(window(now - hours(1), now + hours(1)), dir / "noattr.p7m");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.no_signing_time") << refused.error().describe();
  EXPECT_FALSE(fs::exists(dir / "opened.csv"));
  auto unbound = open(opener_config("agii", "vdab", "rsa"), dir / "noattr.p7m");
  ASSERT_TRUE(unbound) << "without a window the time is not demanded: "
                       << unbound.error().describe();
  EXPECT_FALSE(unbound->signing_time.has_value());
}

TEST_F(BindingTest, TheStockCliSetsSigningTime) {
  write_file(dir / "plain.csv", plaintext);
  ASSERT_EQ(
      run("openssl cms -sign -binary -nodetach -outform DER -in " + quoted(dir / "plain.csv") +
          " -signer " + quoted(key_file("vdab-sign-rsa.crt")) + " -inkey " +
          quoted(key_file("vdab-sign-rsa.key")) + " -out " + quoted(dir / "signed.der") +
          " && openssl cms -encrypt -binary -aes-256-cbc " + "-inform DER -in " +
          quoted(dir / "signed.der") + " -recip " + quoted(key_file("agii-enc-rsa.crt")) +
          " -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt "
          "rsa_mgf1_md:sha256 -outform DER -out " +
          quoted(dir / "cli.p7m")),
      0);
  const auto now = system_clock::now();
  auto opened = open(window(now - minutes(10), now + minutes(10)), dir / "cli.p7m");
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_TRUE(opened->signing_time.has_value());
}

struct ProfileCase {
  EnvelopeProfile sent;
  EnvelopeProfile agreed;
};

class ProfileBinding : public BindingTest, public testing::WithParamInterface<ProfileCase> {};

TEST_P(ProfileBinding, AnotherProfileThanAgreedIsRefused) {
  const auto sealed = seal(GetParam().sent);
  OpenerConfig config = opener_config("agii", "vdab", "rsa");
  config.required_profile = GetParam().agreed;
  auto refused = open(config, sealed);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.profile_mismatch") << refused.error().describe();
  EXPECT_FALSE(fs::exists(dir / "opened.csv"));
  config.required_profile = GetParam().sent;
  EXPECT_TRUE(open(config, sealed)) << "the agreed profile opens";
}

INSTANTIATE_TEST_SUITE_P(BothWays, ProfileBinding,
                         testing::Values(ProfileCase{EnvelopeProfile::cbc, EnvelopeProfile::gcm},
                                         ProfileCase{EnvelopeProfile::gcm, EnvelopeProfile::cbc}),
                         [](const testing::TestParamInfo<ProfileCase>& param_info) {
                           return std::string(to_string(param_info.param.sent)) + "_to_" +
                                  std::string(to_string(param_info.param.agreed)) + "_partner";
                         });

}  // namespace
}  // namespace kbix::test
