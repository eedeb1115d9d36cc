// Key and certificate loading, file-mode refusals and passphrases (the `keys check` report:
// tests/unit/exchange/exchange_keys_test.cpp).
#include "kbix/envelope/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "unit/envelope/envelope_test_support.hpp"

namespace kbix::test {
namespace {

std::string cli_fingerprint(const fs::path& certificate, const fs::path& scratch) {
  const int rc = run("openssl x509 -noout -fingerprint -sha256 -in " + quoted(certificate) + " > " +
                     quoted(scratch));
  EXPECT_EQ(rc, 0);
  std::string text = read_file(scratch);  // "sha256 Fingerprint=AB:CD:..."
  text = text.substr(text.find('=') + 1);
  std::string hex;
  for (const char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return hex;
}

TEST(KeysTest, CertificateFacts) {
  TempDir dir;
  auto rsa = Certificate::load(key_file("vdab-enc-rsa.crt"));
  ASSERT_TRUE(rsa) << rsa.error().describe();
  EXPECT_EQ(rsa->fingerprint_sha256(), cli_fingerprint(key_file("vdab-enc-rsa.crt"), dir / "f"));
  EXPECT_NE(rsa->subject().find("VDAB EXAMPLE ONLY"), std::string::npos) << rsa->subject();
  EXPECT_EQ(rsa->key_type(), KeyType::rsa);
  EXPECT_EQ(rsa->key_bits(), 3072);
  EXPECT_LT(rsa->not_before(), std::chrono::system_clock::now());
  EXPECT_GT(rsa->not_after(), std::chrono::system_clock::now() + std::chrono::hours(24 * 300));

  auto ec = Certificate::load(key_file("agii-enc-ec.crt"));
  ASSERT_TRUE(ec);
  EXPECT_EQ(ec->key_type(), KeyType::ec);
  EXPECT_EQ(ec->key_bits(), 256);
}

TEST(KeysTest, NotACertificate) {
  TempDir dir;
  write_file(dir / "junk.crt", "not a certificate");
  auto junk = Certificate::load(dir / "junk.crt");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, "keys.bad_certificate");
  auto missing = Certificate::load(dir / "missing.crt");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "keys.unreadable");
}

TEST(KeysTest, KeyFileModeIsChecked) {
  TempDir dir;
  fs::copy_file(key_file("agii-enc-rsa.key"), dir / "k.key");
  fs::permissions(dir / "k.key", fs::perms(0600));
  auto good = PrivateKey::load(dir / "k.key");
  ASSERT_TRUE(good) << good.error().describe();
  EXPECT_TRUE(good->matches(*Certificate::load(key_file("agii-enc-rsa.crt"))));
  EXPECT_FALSE(good->matches(*Certificate::load(key_file("vdab-enc-rsa.crt"))));
  for (const unsigned mode : {0640U, 0604U, 0660U}) {
    fs::permissions(dir / "k.key", fs::perms(mode));
    auto refused = PrivateKey::load(dir / "k.key");
    ASSERT_FALSE(refused) << std::oct << mode;
    EXPECT_EQ(refused.error().code, "security.key_file_mode");
    EXPECT_NE(refused.error().message.find("k.key"), std::string::npos);
  }
}

TEST(KeysTest, PassphraseProtectedKey) {
  TempDir dir;
  write_file(dir / "pass", "correct horse battery\n");
  write_file(dir / "wrong", "wrong horse\n");
  fs::permissions(dir / "pass", fs::perms(0600));
  fs::permissions(dir / "wrong", fs::perms(0600));
  ASSERT_EQ(run("umask 077; openssl pkey -in " + quoted(key_file("agii-sign-ec.key")) +
                " -aes256 -passout " + quoted("pass:correct horse battery") + " -out " +
                quoted(dir / "enc.key")),
            0);
  auto key = PrivateKey::load(dir / "enc.key", dir / "pass");
  ASSERT_TRUE(key) << key.error().describe();
  EXPECT_TRUE(key->matches(*Certificate::load(key_file("agii-sign-ec.crt"))));

  auto no_passphrase = PrivateKey::load(dir / "enc.key");
  ASSERT_FALSE(no_passphrase);
  EXPECT_EQ(no_passphrase.error().code, "keys.passphrase_needed");
  auto wrong = PrivateKey::load(dir / "enc.key", dir / "wrong");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, "keys.bad_key");

  fs::permissions(dir / "pass", fs::perms(0644));
  auto readable_passphrase = PrivateKey::load(dir / "enc.key", dir / "pass");
  ASSERT_FALSE(readable_passphrase);
  EXPECT_EQ(readable_passphrase.error().code, "security.key_file_mode");
}

TEST(KeysTest, PublicKeyFingerprintMatchesTheCertificateKey) {
  auto key = PrivateKey::load(key_file("vdab-sign-ec.key"));
  ASSERT_TRUE(key);
  TempDir dir;
  ASSERT_EQ(run("openssl x509 -in " + quoted(key_file("vdab-sign-ec.crt")) +
                " -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64 > " +
                quoted(dir / "fp")),
            0);
  EXPECT_EQ(key->public_key_fingerprint_sha256() + "\n", read_file(dir / "fp"));
}

}  // namespace
}  // namespace kbix::test

namespace kbix::test {
namespace {

// keys-example/make-keys (run at build time for these tests): private keys 0600, certificates
// usable, and a known_hosts line pinning the generated host key on the given port.
TEST(MakeKeysTest, WritesPrivateKeysWithMode0600AndAKnownHostsLine) {
  int private_keys = 0;
  for (const auto& entry : fs::directory_iterator(example_keys())) {
    const std::string name = entry.path().filename();
    const bool is_private =
        name.ends_with(".key") || name == "ssh-client-ed25519" || name == "ssh-host-ed25519";
    if (!is_private) continue;
    ++private_keys;
    EXPECT_EQ(fs::status(entry.path()).permissions() & fs::perms::all, fs::perms(0600)) << name;
    if (name.ends_with(".key")) {
      auto key = PrivateKey::load(entry.path());
      ASSERT_TRUE(key) << key.error().describe();
      auto certificate =
          Certificate::load(entry.path().parent_path() / (entry.path().stem().string() + ".crt"));
      ASSERT_TRUE(certificate);
      EXPECT_TRUE(key->matches(*certificate)) << name;
    }
  }
  EXPECT_EQ(private_keys, 8 + 2);  // 2 parties x 2 uses x 2 types, plus 2 SSH keys
  const std::string host_key = read_file(key_file("ssh-host-ed25519.pub"));
  const std::string key_part = host_key.substr(0, host_key.find(' ', host_key.find(' ') + 1));
  EXPECT_EQ(read_file(key_file("known_hosts")), "[127.0.0.1]:2222 " + key_part + "\n");
}

}  // namespace
}  // namespace kbix::test
