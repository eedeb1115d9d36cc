#include "kbix/envelope/envelope.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <ctime>

#include "internal/envelope_internal.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix {
namespace {

using namespace envelope_detail;  // NOLINT: this module's own plumbing

constexpr int kMinRsaBits = 3072;
constexpr int kStreamFlags = CMS_STREAM | CMS_PARTIAL | CMS_BINARY;

// True when `in` has no bytes; the one byte peeked is pushed back by rewinding the file BIO.
bool input_is_empty(BIO* in) {
  char probe = 0;
  const int got = BIO_read(in, &probe, 1);
  (void)BIO_seek(in, 0);
  return got <= 0;
}

// The SHA-256 the signer computed over the content (its messageDigest attribute), as hex; empty
// when the signer is not SHA-256 (then the caller's digest of the plaintext is missing).
std::string signed_content_sha256(CMS_ContentInfo* signed_data) {
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(signed_data);
  CMS_SignerInfo* signer = signers != nullptr && sk_CMS_SignerInfo_num(signers) == 1
                               ? sk_CMS_SignerInfo_value(signers, 0)
                               : nullptr;
  X509_ALGOR* digest_algorithm = nullptr;
  if (signer != nullptr)
    CMS_SignerInfo_get0_algs(signer, nullptr, nullptr, &digest_algorithm, nullptr);
  const ASN1_OBJECT* algorithm = nullptr;
  if (digest_algorithm != nullptr) X509_ALGOR_get0(&algorithm, nullptr, nullptr, digest_algorithm);
  const auto* digest =
      algorithm != nullptr && OBJ_obj2nid(algorithm) == NID_sha256
          ? static_cast<const ASN1_OCTET_STRING*>(CMS_signed_get0_data_by_OBJ(
                signer, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING))
          : nullptr;
  ERR_clear_error();
  if (digest == nullptr || ASN1_STRING_length(digest) != 32) return {};
  return to_hex(std::span(ASN1_STRING_get0_data(digest), 32));
}

// Streams `in` through a SignedData encoder into `sink` (the envelope chain) and finalises both:
// flushing the top finalises the SignedData (signature), then the envelope (tag), in order.
Result<std::uint64_t> stream_signed(BIO* in, BIO* sink, CMS_ContentInfo* signed_data) {
  BIO* signing_chain = BIO_new_CMS(sink, signed_data);
  if (signing_chain == nullptr) return fail("envelope.seal_failed", openssl_reason());
  std::vector<char> chunk(kCopyChunkBytes);
  std::uint64_t total = 0;
  bool copied = true;
  for (;;) {
    const int got = BIO_read(in, chunk.data(), static_cast<int>(chunk.size()));
    if (got <= 0) {
      copied = got == 0 || BIO_eof(in);
      break;
    }
    if (BIO_write(signing_chain, chunk.data(), got) != got) {
      copied = false;
      break;
    }
    total += static_cast<std::uint64_t>(got);
  }
  const bool finished = copied && BIO_flush(signing_chain) > 0;
  free_chain_until(signing_chain, sink);
  if (!finished) return fail("envelope.seal_failed", openssl_reason());
  return total;
}

// OpenSSL's streaming encoder cannot finish a stream that never received a byte, so an empty
// input is signed in memory (it is tiny) and the SignedData written into the envelope stream.
Result<std::uint64_t> write_signed_empty_content(BIO* sink, const Certificate& certificate,
                                                 const PrivateKey& key) {
  BioPtr empty(BIO_new(BIO_s_mem()));
  BioPtr der(BIO_new(BIO_s_mem()));
  CmsPtr signed_data(
      empty ? CMS_sign(certificate.native(), key.native(), nullptr, empty.get(), CMS_BINARY)
            : nullptr);
  char* bytes = nullptr;
  const bool encoded = signed_data && der && i2d_CMS_bio(der.get(), signed_data.get()) == 1;
  const long length = encoded ? BIO_get_mem_data(der.get(), &bytes) : 0;
  if (!encoded || length <= 0 || BIO_write(sink, bytes, static_cast<int>(length)) != length ||
      BIO_flush(sink) <= 0) {
    return fail("envelope.seal_failed", openssl_reason());
  }
  return std::uint64_t{0};
}

// The exchange specification allows P-256 and P-384 for ECDH recipients.
bool supported_curve(const Certificate& certificate) {
  std::array<char, 64> group{};
  std::size_t length = 0;
  const EVP_PKEY* key = X509_get0_pubkey(certificate.native());
  const bool named =
      key != nullptr && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                                       group.data(), group.size(), &length) == 1;
  ERR_clear_error();
  const std::string_view name(group.data(), named ? length : 0);
  return name == "prime256v1" || name == "P-256" || name == "secp384r1" || name == "P-384";
}

Status check_recipient(const Certificate& recipient) {
  KBIX_TRY(check_validity(recipient, "recipient", "envelope.recipient_not_yet_valid",
                          "envelope.recipient_expired"));
  const std::string subject = "recipient certificate \"" + recipient.subject() + "\"";
  const std::uint32_t usage = X509_get_key_usage(recipient.native());
  ERR_clear_error();
  const bool has_usage = usage != UINT32_MAX;  // no keyUsage extension: any use allowed
  switch (recipient.key_type()) {
    case KeyType::rsa:
      if (recipient.key_bits() < kMinRsaBits) {
        return fail("envelope.recipient_weak_key",
                    subject + " has an RSA key of " + std::to_string(recipient.key_bits()) +
                        " bits; at least " + std::to_string(kMinRsaBits) + " are required");
      }
      if (has_usage && (usage & KU_KEY_ENCIPHERMENT) == 0) {
        return fail("envelope.recipient_key_usage", subject + " does not allow keyEncipherment");
      }
      return ok();
    case KeyType::ec:
      if (!supported_curve(recipient)) {
        return fail("envelope.recipient_key_type",
                    subject + " uses an EC curve other than P-256 or P-384");
      }
      if (has_usage && (usage & KU_KEY_AGREEMENT) == 0) {
        return fail("envelope.recipient_key_usage", subject + " does not allow keyAgreement");
      }
      return ok();
    case KeyType::other:
      break;
  }
  return fail("envelope.recipient_key_type", subject + " has neither an RSA nor an EC key");
}

// RSA: OAEP with SHA-256 and MGF1-SHA-256. EC: ECDH, X9.63 KDF with SHA-256, AES-256 key wrap.
Status add_recipient(CMS_ContentInfo* cms, const Certificate& recipient) {
  CMS_RecipientInfo* info = CMS_add1_recipient_cert(cms, recipient.native(), CMS_KEY_PARAM);
  EVP_PKEY_CTX* context = info == nullptr ? nullptr : CMS_RecipientInfo_get0_pkey_ctx(info);
  bool configured = context != nullptr;
  if (configured && recipient.key_type() == KeyType::rsa) {
    configured = EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) > 0 &&
                 EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha256()) > 0 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()) > 0;
  } else if (configured) {
    EVP_CIPHER_CTX* wrap = CMS_RecipientInfo_kari_get0_ctx(info);
    configured = EVP_PKEY_CTX_set_ecdh_kdf_md(context, EVP_sha256()) > 0 && wrap != nullptr &&
                 EVP_EncryptInit_ex(wrap, EVP_aes_256_wrap(), nullptr, nullptr, nullptr) > 0;
  }
  if (!configured) {
    return fail("envelope.seal_failed",
                "cannot add recipient \"" + recipient.subject() + "\": " + openssl_reason());
  }
  return ok();
}

}  // namespace

Result<EnvelopeProfile> parse_envelope_profile(std::string_view name) {
  if (name == "gcm") return EnvelopeProfile::gcm;
  if (name == "cbc") return EnvelopeProfile::cbc;
  return fail("envelope.bad_profile", "unknown envelope profile; use \"gcm\" or \"cbc\"");
}

std::string_view to_string(EnvelopeProfile profile) {
  return profile == EnvelopeProfile::gcm ? "gcm" : "cbc";
}

// ---- Sealer ------------------------------------------------------------------------------------

struct Sealer::State {
  Certificate signing_certificate;
  PrivateKey signing_key;
  std::vector<Certificate> recipients;
  EnvelopeProfile profile;
};

Result<Sealer> Sealer::create(const SealerConfig& config) {
  auto certificate = Certificate::load(config.signing_certificate);
  if (!certificate) return fail(std::move(certificate).error());
  KBIX_ASSIGN_OR_RETURN(auto key, PrivateKey::load(config.signing_key, config.key_passphrase_file));
  if (!key.matches(*certificate)) {
    return fail("envelope.key_mismatch", config.signing_key.string() +
                                             ": does not match the signing certificate " +
                                             config.signing_certificate.string());
  }
  if (config.recipient_certificates.empty()) {
    return fail("envelope.no_recipients", "a sealer needs at least one recipient certificate");
  }
  std::vector<Certificate> recipients;
  for (const auto& file : config.recipient_certificates) {
    KBIX_ASSIGN_OR_RETURN(auto recipient, Certificate::load(file));
    KBIX_TRY(check_recipient(recipient));
    recipients.push_back(std::move(recipient));
  }
  return Sealer(std::make_shared<const State>(
      State{std::move(*certificate), std::move(key), std::move(recipients), config.profile}));
}

Result<SealReport> Sealer::seal(const std::filesystem::path& input,
                                const std::filesystem::path& output) const {
  BioPtr in(BIO_new_file(input.c_str(), "rb"));
  if (!in) {
    ERR_clear_error();
    return fail("io.open", input.string() + ": cannot open for reading");
  }
  return seal_bio(in.get(), input.string(), output);
}

Result<SealReport> Sealer::seal(int input_fd, std::string_view input_name,
                                const std::filesystem::path& output) const {
  BioPtr in(BIO_new_fd(input_fd, BIO_NOCLOSE));
  if (!in || BIO_seek(in.get(), 0) != 0) {
    ERR_clear_error();
    return fail("io.open", std::string(input_name) + ": cannot read from its descriptor");
  }
  return seal_bio(in.get(), input_name, output);
}

Result<SealReport> Sealer::seal_bio(BIO* in, std::string_view input_name,
                                    const std::filesystem::path& output) const {
  for (const auto& recipient : state_->recipients) KBIX_TRY(check_recipient(recipient));
  auto file = AtomicFile::create(output, 0600);
  if (!file) return fail(std::move(file).error());
  // The sealed bytes are digested on their way to the file.
  BioPtr out = buffered_fd_writer(file->fd());
  BIO* digest = out ? BIO_new(BIO_f_md()) : nullptr;
  if (digest != nullptr && BIO_set_md(digest, EVP_sha256()) > 0) {
    out = BioPtr(BIO_push(digest, out.release()));
  } else {
    BIO_free(digest);
    out.reset();
  }

  const EVP_CIPHER* cipher =
      state_->profile == EnvelopeProfile::gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
  CmsPtr enveloped(CMS_encrypt_ex(nullptr, nullptr, cipher, kStreamFlags, nullptr, nullptr));
  CmsPtr signed_data(CMS_sign(state_->signing_certificate.native(), state_->signing_key.native(),
                              nullptr, nullptr, kStreamFlags));
  if (!out || !enveloped || !signed_data) {
    return fail("envelope.seal_failed", "cannot set up CMS structures: " + openssl_reason());
  }
  for (const auto& recipient : state_->recipients) {
    KBIX_TRY(add_recipient(enveloped.get(), recipient));
  }

  // Two streaming CMS filters stacked: plaintext -> SignedData encoder -> cipher -> file.
  BIO* envelope_chain = BIO_new_CMS(out.get(), enveloped.get());
  if (envelope_chain == nullptr) {
    return fail("envelope.seal_failed", "cannot start the CMS stream: " + openssl_reason());
  }
  auto streamed = input_is_empty(in)
                      ? write_signed_empty_content(envelope_chain, state_->signing_certificate,
                                                   state_->signing_key)
                      : stream_signed(in, envelope_chain, signed_data.get());
  free_chain_until(envelope_chain, out.get());
  if (!streamed || BIO_flush(out.get()) <= 0) {
    return fail("envelope.seal_failed",
                std::string(input_name) + ": sealing failed: " +
                    (streamed ? openssl_reason() : streamed.error().message));
  }
  const std::uint64_t plaintext_bytes = *streamed;
  std::array<unsigned char, EVP_MAX_MD_SIZE> sealed_digest{};
  const int sealed_digest_bytes =
      BIO_gets(out.get(), reinterpret_cast<char*>(sealed_digest.data()), EVP_MAX_MD_SIZE);
  if (sealed_digest_bytes != 32) {
    return fail("envelope.seal_failed", "cannot digest the sealed file: " + openssl_reason());
  }
  out.reset();
  KBIX_TRY(file->commit());
  SealReport report;
  report.plaintext_bytes = plaintext_bytes;
  report.sealed_sha256 = to_hex(std::span(sealed_digest.data(), 32));
  report.plaintext_sha256 = plaintext_bytes == 0 ? sha256_hex(std::string_view())
                                                 : signed_content_sha256(signed_data.get());
  report.sealed_bytes = size_of_file(output).value_or(0);
  spdlog::debug("envelope: sealed {} bytes into {} ({} bytes, profile {})", plaintext_bytes,
                output.filename().string(), report.sealed_bytes, to_string(state_->profile));
  return report;
}

}  // namespace kbix
