// Sealed bytes: a secret sealed from memory and opened into memory, with no plaintext file on the
// way; interop with the stock `openssl cms` CLI both ways; tampering and foreign keys refused.
#include "kbix/envelope/sealed_bytes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iterator>
#include <string>

#include "kbix/core/digest.hpp"
#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// Our own state: signed by AgII, encrypted to AgII (as the row references are).
SealerConfig own_sealer() {
  return sealer_config("agii", "agii", "rsa", EnvelopeProfile::gcm);
}

OpenerConfig own_opener() {
  return opener_config("agii", "agii", "rsa");
}

// Signs `plain` as AgII and encrypts it to AgII with the stock CLI (`stream` " -stream" for
// indefinite lengths in the SignedData); `signed_der` keeps the SignedData.
testing::AssertionResult seal_with_openssl_cli(const std::filesystem::path& plain,
                                               const std::filesystem::path& signed_der,
                                               const std::filesystem::path& sealed,
                                               const std::string& stream) {
  const std::string sign = "openssl cms -sign -binary -nodetach -md sha256" + stream + " -in " +
                           quoted(plain) + " -signer " + quoted(key_file("agii-sign-rsa.crt")) +
                           " -inkey " + quoted(key_file("agii-sign-rsa.key")) +
                           " -outform DER -out " + quoted(signed_der);
  if (run(sign) != 0) return testing::AssertionFailure() << sign;
  const std::string encrypt =
      "openssl cms -encrypt -binary -aes-256-gcm -in " + quoted(signed_der) + " -recip " +
      quoted(key_file("agii-enc-rsa.crt")) +
      " -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256"
      " -outform DER -out " +
      quoted(sealed);
  if (run(encrypt) != 0) return testing::AssertionFailure() << encrypt;
  return testing::AssertionSuccess();
}

class SealedBytesTest : public testing::Test {
 protected:
  TempDir dir;
  std::string secret = "R-ABCD-EFGH-JKMN-PRST;85073003328\nsynthetic line two\n";
};

TEST_F(SealedBytesTest, RoundTripLeavesOnlyTheSealedFile) {
  auto sealer = make_sealer(own_sealer());
  auto sealed = seal_bytes(sealer, as_bytes(secret), "row references", dir / "state.p7m");
  ASSERT_TRUE(sealed) << sealed.error().describe();
  EXPECT_EQ(sealed->plaintext_bytes, secret.size());
  // Only the sealed file is there, and it does not hold the plaintext.
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"state.p7m"});
  EXPECT_EQ(read_file(dir / "state.p7m").find("synthetic line"), std::string::npos);

  auto opener = make_opener(own_opener());
  auto opened = open_bytes(opener, dir / "state.p7m", 4096);
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->text(), secret);
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"state.p7m"});
}

TEST_F(SealedBytesTest, EmptyBufferRoundTrips) {
  auto sealer = make_sealer(own_sealer());
  ASSERT_TRUE(seal_bytes(sealer, {}, "nothing", dir / "empty.p7m"));
  auto opened = open_bytes(make_opener(own_opener()), dir / "empty.p7m", 16);
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_TRUE(opened->empty());
}

TEST_F(SealedBytesTest, OpensslCliOpensWhatSealBytesWrote) {
  auto sealer = make_sealer(own_sealer());
  ASSERT_TRUE(seal_bytes(sealer, as_bytes(secret), "secret", dir / "state.p7m"));
  const std::string decrypt =
      "openssl cms -decrypt -binary -inform DER -in " + quoted(dir / "state.p7m") + " -recip " +
      quoted(key_file("agii-enc-rsa.crt")) + " -inkey " + quoted(key_file("agii-enc-rsa.key")) +
      " -out " + quoted(dir / "signed.der");
  ASSERT_EQ(run(decrypt), 0) << decrypt;
  const std::string verify = "openssl cms -verify -binary -inform DER -in " +
                             quoted(dir / "signed.der") + " -CAfile " +
                             quoted(key_file("agii-sign-rsa.crt")) + " -purpose any -out " +
                             quoted(dir / "plain") + " 2>/dev/null";
  ASSERT_EQ(run(verify), 0) << verify;
  EXPECT_EQ(read_file(dir / "plain"), secret);
}

TEST_F(SealedBytesTest, OpenBytesOpensWhatOpensslCliSealed) {
  write_file(dir / "plain", secret);
  ASSERT_TRUE(seal_with_openssl_cli(dir / "plain", dir / "signed.der", dir / "cli.p7m", ""));
  auto opened = open_bytes(make_opener(own_opener()), dir / "cli.p7m", 4096);
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->text(), secret);
}

TEST_F(SealedBytesTest, FlippedByteIsRefusedAnywhere) {
  auto sealer = make_sealer(own_sealer());
  ASSERT_TRUE(seal_bytes(sealer, as_bytes(secret), "secret", dir / "state.p7m"));
  const std::string sealed = read_file(dir / "state.p7m");
  auto opener = make_opener(own_opener());
  // Every 7th byte, then the last one (inside the GCM tag): none may open.
  for (std::size_t at = 0; at < sealed.size(); at += 7) {
    std::string damaged = sealed;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    write_file(dir / "damaged.p7m", damaged);
    EXPECT_FALSE(open_bytes(opener, dir / "damaged.p7m", 4096)) << "flipped byte " << at;
  }
  std::string last = sealed;
  last.back() = static_cast<char>(last.back() ^ 0x80);
  write_file(dir / "damaged.p7m", last);
  EXPECT_FALSE(open_bytes(opener, dir / "damaged.p7m", 4096));
}

TEST_F(SealedBytesTest, ForeignKeyAndForeignSignerAreRefused) {
  auto sealer = make_sealer(own_sealer());
  ASSERT_TRUE(seal_bytes(sealer, as_bytes(secret), "secret", dir / "state.p7m"));
  // Opened with VDAB's key: not addressed to it.
  auto foreign =
      open_bytes(make_opener(opener_config("vdab", "agii", "rsa")), dir / "state.p7m", 4096);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, "envelope.not_for_us");
  // Sealed to us but signed by VDAB: the signer is not pinned.
  auto vdab_signed = make_sealer(sealer_config("vdab", "agii", "rsa", EnvelopeProfile::gcm));
  ASSERT_TRUE(seal_bytes(vdab_signed, as_bytes(secret), "secret", dir / "other.p7m"));
  auto unknown = open_bytes(make_opener(own_opener()), dir / "other.p7m", 4096);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "envelope.unknown_signer");
}

TEST_F(SealedBytesTest, ContentOverTheLimitIsRefused) {
  auto sealer = make_sealer(own_sealer());
  ASSERT_TRUE(seal_bytes(sealer, as_bytes(secret), "secret", dir / "state.p7m"));
  auto opened = open_bytes(make_opener(own_opener()), dir / "state.p7m", secret.size() - 1);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, "envelope.too_large");
  EXPECT_TRUE(open_bytes(make_opener(own_opener()), dir / "state.p7m", secret.size()));
}

// A large file opened into memory: exactly the content, read through descriptors of a memory
// file that has no name on disk; nothing is written next to the sealed file; damage and a
// foreign signer are refused with the codes of Opener::open.
TEST_F(SealedBytesTest, OpenIntoMemoryGivesTheContentWithoutAFile) {
  std::string large;
  for (int i = 0; i < 40000; ++i) large += "synthetic row " + std::to_string(i) + ";85073003328\n";
  write_file(dir / "plain.csv", large);
  auto sealer = make_sealer(own_sealer());
  ASSERT_TRUE(sealer.seal(dir / "plain.csv", dir / "big.p7m"));
  std::filesystem::remove(dir / "plain.csv");

  auto opened = open_into_memory(make_opener(own_opener()), dir / "big.p7m");
  ASSERT_TRUE(opened) << opened.error().describe();
  EXPECT_EQ(opened->size(), large.size());
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"big.p7m"});
  const auto link = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(opened->fd()));
  EXPECT_EQ(link.string().rfind("/memfd:", 0), 0u) << link;
  for (int pass = 0; pass < 2; ++pass) {  // each input() reads from the start
    auto input = opened->input("big.csv");
    ASSERT_TRUE(input) << input.error().describe();
    EXPECT_EQ(input->size(), large.size());
    const std::string read_back((std::istreambuf_iterator<char>(input->stream())),
                                std::istreambuf_iterator<char>());
    EXPECT_TRUE(read_back == large) << "pass " << pass;
  }

  std::string damaged = read_file(dir / "big.p7m");
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x01);
  write_file(dir / "damaged.p7m", damaged);
  auto refused = open_into_memory(make_opener(own_opener()), dir / "damaged.p7m");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "envelope.integrity");
  auto vdab_signed = make_sealer(sealer_config("vdab", "agii", "rsa", EnvelopeProfile::gcm));
  ASSERT_TRUE(seal_bytes(vdab_signed, as_bytes(secret), "secret", dir / "other.p7m"));
  auto unknown = open_into_memory(make_opener(own_opener()), dir / "other.p7m");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "envelope.unknown_signer");
}

// The content is moved to the start of the memory file that held the SignedData: exactly the
// content remains, for content in one definite-length octet string and in the many pieces of an
// indefinite-length one (`openssl cms -stream`), larger than the writer's 256 KiB buffer.
TEST_F(SealedBytesTest, OpenIntoMemoryKeepsExactlyTheContentOfEitherEncoding) {
  std::string large;
  for (int i = 0; large.size() < 900 * 1024; ++i) {
    large += "synthetic row " + std::to_string(i * 7919 % 100003) + ";" + std::to_string(i) + "\n";
  }
  write_file(dir / "plain.csv", large);
  for (const std::string stream : {"", " -stream"}) {
    SCOPED_TRACE(stream.empty() ? "definite" : "indefinite");
    ASSERT_TRUE(
        seal_with_openssl_cli(dir / "plain.csv", dir / "signed.der", dir / "cli.p7m", stream));
    ASSERT_GT(std::filesystem::file_size(dir / "signed.der"), large.size());

    auto opened = open_into_memory(make_opener(own_opener()), dir / "cli.p7m");
    ASSERT_TRUE(opened) << opened.error().describe();
    EXPECT_EQ(opened->size(), large.size());
    EXPECT_EQ(::lseek(opened->fd(), 0, SEEK_END), static_cast<off_t>(large.size()));
    auto input = opened->input("cli.csv");
    ASSERT_TRUE(input) << input.error().describe();
    const std::string read_back((std::istreambuf_iterator<char>(input->stream())),
                                std::istreambuf_iterator<char>());
    EXPECT_TRUE(read_back == large);
    auto small = open_bytes(make_opener(own_opener()), dir / "cli.p7m", large.size());
    ASSERT_TRUE(small) << small.error().describe();
    EXPECT_TRUE(small->text() == large);
  }
}

// The sealer's report carries the SHA-256 of the plaintext and of the sealed file, equal to
// digests taken by reading the files again (what the run steps did before).
TEST_F(SealedBytesTest, SealReportDigestsEqualTheFilesDigests) {
  write_file(dir / "plain.csv", secret);
  for (const auto profile : {EnvelopeProfile::gcm, EnvelopeProfile::cbc}) {
    auto sealer = make_sealer(sealer_config("agii", "agii", "rsa", profile));
    auto sealed = sealer.seal(dir / "plain.csv", dir / "sealed.p7m");
    ASSERT_TRUE(sealed) << sealed.error().describe();
    EXPECT_EQ(sealed->plaintext_sha256, sha256_hex(secret));
    EXPECT_EQ(sealed->sealed_sha256, sha256_hex(read_file(dir / "sealed.p7m")));
  }
  auto sealer = make_sealer(own_sealer());
  auto empty = seal_bytes(sealer, {}, "nothing", dir / "empty.p7m");
  ASSERT_TRUE(empty) << empty.error().describe();
  EXPECT_EQ(empty->plaintext_sha256, sha256_hex(""));
  EXPECT_EQ(empty->sealed_sha256, sha256_hex(read_file(dir / "empty.p7m")));
}

TEST(SecretBytesTest, MoveLeavesTheSourceEmpty) {
  SecretBytes first(4);
  std::memcpy(first.writable().data(), "abcd", 4);
  SecretBytes second = std::move(first);
  EXPECT_EQ(second.text(), "abcd");
  EXPECT_EQ(first.size(), 0U);  // NOLINT: checking the moved-from state on purpose
  static_assert(!std::is_copy_constructible_v<SecretBytes>);
}

}  // namespace
}  // namespace kbix::test
