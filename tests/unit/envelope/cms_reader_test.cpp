// The bounded CMS walker: outlines of real files, and every way an untrusted file can be wrong.
#include "kbix/envelope/cms_reader.hpp"

#include <gtest/gtest.h>

#include "unit/envelope/envelope_fixture.hpp"

namespace kbix::test {
namespace {

Result<CmsOutline> outline_of(const std::string& bytes, const CmsLimits& limits = {}) {
  MemorySource source(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return outline_cms(source, limits);
}

std::string error_code(const Result<CmsOutline>& result) {
  return result ? std::string("ok") : result.error().code;
}

// id-signedData and id-data, as ContentInfo prefixes.
const std::string kSignedDataOid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", 11);
const std::string kDataOid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01", 11);

class CmsReaderTest : public testing::Test {
 protected:
  std::string sealed(EnvelopeProfile profile, const std::string& plaintext) {
    write_file(dir / "plain.csv", plaintext);
    auto sealer = make_sealer(sealer_config("agii", "vdab", "ec", profile));
    EXPECT_TRUE(sealer.seal(dir / "plain.csv", dir / "sealed.p7m"));
    return read_file(dir / "sealed.p7m");
  }
  TempDir dir;
};

TEST_F(CmsReaderTest, OutlinesAGcmFile) {
  const std::string plaintext = synthetic_csv(5000);
  const std::string file = sealed(EnvelopeProfile::gcm, plaintext);
  auto outline = outline_of(file);
  ASSERT_TRUE(outline) << outline.error().describe();
  EXPECT_EQ(outline->kind, CmsContentKind::auth_enveloped);
  EXPECT_EQ(outline->total_bytes, file.size());
  EXPECT_EQ(outline->mac_length, 16U);
  ASSERT_TRUE(outline->mac_offset);
  EXPECT_EQ(*outline->mac_offset + 16 + 6, file.size());  // tag, then three end-of-contents
  // The ciphertext holds the signed plaintext: more than the plaintext, less than double.
  EXPECT_GT(outline->content_bytes, plaintext.size());
  EXPECT_LT(outline->content_bytes, 2 * plaintext.size());
}

TEST_F(CmsReaderTest, OutlinesACbcFileAndADefiniteLengthFile) {
  auto cbc = outline_of(sealed(EnvelopeProfile::cbc, synthetic_csv(10)));
  ASSERT_TRUE(cbc) << cbc.error().describe();
  EXPECT_EQ(cbc->kind, CmsContentKind::enveloped);
  EXPECT_FALSE(cbc->mac_offset);

  // The CLI without -stream writes definite lengths.
  write_file(dir / "p.csv", synthetic_csv(10));
  ASSERT_EQ(run("openssl cms -encrypt -binary -aes-256-gcm -in " + quoted(dir / "p.csv") +
                " -recip " + quoted(key_file("vdab-enc-ec.crt")) + " -outform DER -out " +
                quoted(dir / "definite.p7m")),
            0);
  const std::string definite = read_file(dir / "definite.p7m");
  ASSERT_NE(static_cast<unsigned char>(definite[1]), 0x80);
  auto outline = outline_of(definite);
  ASSERT_TRUE(outline) << outline.error().describe();
  EXPECT_EQ(outline->kind, CmsContentKind::auth_enveloped);
  EXPECT_EQ(outline->mac_length, 16U);
  EXPECT_EQ(outline->total_bytes, definite.size());
}

TEST_F(CmsReaderTest, EveryPrefixIsTruncated) {
  write_file(dir / "p.csv", "a");
  ASSERT_EQ(run("openssl cms -encrypt -binary -aes-256-gcm -in " + quoted(dir / "p.csv") +
                " -recip " + quoted(key_file("vdab-enc-ec.crt")) + " -outform DER -out " +
                quoted(dir / "definite.p7m")),
            0);
  for (const std::string& file :
       {sealed(EnvelopeProfile::gcm, "a"), read_file(dir / "definite.p7m")}) {
    for (std::size_t length = 1; length < file.size(); ++length) {
      ASSERT_EQ(error_code(outline_of(file.substr(0, length))), "envelope.truncated") << length;
    }
  }
}

TEST_F(CmsReaderTest, RejectsWhatIsNotCms) {
  EXPECT_EQ(error_code(outline_of("")), "envelope.not_cms");
  EXPECT_EQ(error_code(outline_of("insz\n12345678901\n")), "envelope.not_cms");
  EXPECT_EQ(error_code(outline_of(std::string("\x30\x03\x02\x01\x00", 5))), "envelope.not_cms");
}

TEST_F(CmsReaderTest, RejectsTrailingDataAndBadLengths) {
  const std::string file = sealed(EnvelopeProfile::gcm, "x");
  EXPECT_EQ(error_code(outline_of(file + "x")), "envelope.malformed");
  // A length field of nine bytes, and a length beyond any limit.
  EXPECT_EQ(error_code(outline_of(std::string("\x30\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00", 11))),
            "envelope.malformed");
  EXPECT_EQ(error_code(outline_of(std::string("\x30\x88\x7f\xff\xff\xff\xff\xff\xff\xff", 10))),
            "envelope.malformed");
  // A child longer than its parent.
  EXPECT_EQ(error_code(outline_of("\x30\x0d" + kSignedDataOid + std::string("\xa0\x05\x01", 3))),
            "envelope.malformed");
  // Indefinite length on a primitive value.
  EXPECT_EQ(error_code(outline_of("\x30\x80" + kSignedDataOid + std::string("\x04\x80", 2))),
            "envelope.malformed");
}

TEST_F(CmsReaderTest, BoundsNestingDepth) {
  // Content of a type the walker does not descend into is still skipped with bounded depth.
  std::string deep = "\x30\x80" + kDataOid + std::string("\xa0\x80", 2);
  for (int i = 0; i < 100; ++i) deep += std::string("\x30\x80", 2);
  for (int i = 0; i < 102; ++i) deep += std::string("\x00\x00", 2);
  EXPECT_EQ(error_code(outline_of(deep)), "envelope.malformed");

  std::string shallow = "\x30\x80" + kDataOid + std::string("\xa0\x80", 2);
  for (int i = 0; i < 5; ++i) shallow += std::string("\x30\x80", 2);
  for (int i = 0; i < 7; ++i) shallow += std::string("\x00\x00", 2);
  auto outline = outline_of(shallow);
  ASSERT_TRUE(outline) << outline.error().describe();
  EXPECT_EQ(outline->kind, CmsContentKind::other);
  EXPECT_EQ(outline->total_bytes, shallow.size());
}

TEST_F(CmsReaderTest, OutlinesASignedDataAndCutsItsContentOut) {
  const std::string plaintext = synthetic_csv(3000);
  write_file(dir / "p.csv", plaintext);
  for (const std::string stream : {"", " -stream"}) {  // definite and indefinite lengths
    SCOPED_TRACE(stream);
    ASSERT_EQ(run("openssl cms -sign -binary -nodetach" + stream + " -in " + quoted(dir / "p.csv") +
                  " -signer " + quoted(key_file("agii-sign-ec.crt")) + " -inkey " +
                  quoted(key_file("agii-sign-ec.key")) + " -outform DER -out " +
                  quoted(dir / "signed.der")),
              0);
    auto source = FileSource::open(dir / "signed.der");
    ASSERT_TRUE(source);
    auto outline = outline_cms(*source);
    ASSERT_TRUE(outline) << outline.error().describe();
    EXPECT_EQ(outline->kind, CmsContentKind::signed_data);
    EXPECT_EQ(outline->content_bytes, plaintext.size());
    ASSERT_TRUE(outline->content);
    EXPECT_EQ(outline->enclosing.size(), 4U);

    std::string streamed;
    ASSERT_TRUE(source->seek(outline->content->start));
    ASSERT_TRUE(stream_content(*source, *outline, [&](std::span<const std::uint8_t> bytes) {
      streamed.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return ok();
    }));
    EXPECT_EQ(streamed, plaintext);

    // The detached copy is what `openssl cms -sign` (without -nodetach) would give: the CLI
    // verifies it against the content as a separate file.
    auto detached = read_detached(source->fd(), *outline, 1 << 20);
    ASSERT_TRUE(detached) << detached.error().describe();
    EXPECT_LT(detached->size(), 3000U);
    write_file(dir / "detached.der", std::string(detached->begin(), detached->end()));
    EXPECT_EQ(
        run("openssl cms -verify -binary -inform DER -in " + quoted(dir / "detached.der") +
            " -content " + quoted(dir / "p.csv") + " -CAfile " +
            quoted(key_file("agii-sign-ec.crt")) + " -purpose any -out /dev/null 2>/dev/null"),
        0);
    EXPECT_FALSE(read_detached(source->fd(), *outline, 100));  // the named limit holds
  }
}

TEST_F(CmsReaderTest, RefusesFilesOverTheSizeLimit) {
  CmsLimits limits;
  limits.max_total_bytes = 100;
  EXPECT_EQ(error_code(outline_of(sealed(EnvelopeProfile::gcm, "x"), limits)),
            "envelope.malformed");
}

}  // namespace
}  // namespace kbix::test
