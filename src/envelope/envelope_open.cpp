// Opener: streaming open of a sealed file in constant memory.
//
// OpenSSL's CMS_decrypt/CMS_verify hold the whole file in memory (about 3x its size), so the two
// layers are taken apart here instead, with the bounded walker of cms_reader.hpp:
//   1. walk the envelope (truncation, damage, tag length) and parse only what surrounds the
//      ciphertext with OpenSSL; it finds our RecipientInfo and unwraps the content key;
//   2. stream the ciphertext through the cipher context OpenSSL set up (CMS_dataInit) into a
//      private scratch file; the GCM tag is checked at the end (EVP_DecryptFinal_ex);
//   3. walk the decrypted SignedData the same way, stream its content into the output (a
//      temporary file, or for a memory target the scratch file itself, the content moved to its
//      start), and let CMS_verify check the signature over the output as detached content.
// The output is renamed into place only after both checks; the temporary files are removed.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include "internal/envelope_internal.hpp"
#include "internal/open_target.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/envelope/cms_reader.hpp"
#include "kbix/envelope/envelope.hpp"

namespace kbix {
namespace {

using namespace envelope_detail;  // NOLINT: this module's own plumbing

constexpr std::size_t kGcmTagBytes = 16;
// Everything but the (streamed) content is parsed in memory: certificates, recipient infos,
// signer infos. Real files hold a few kilobytes of it.
constexpr std::size_t kMaxStructureBytes = 1 << 20;
constexpr std::size_t kWriteBufferBytes = 256 * 1024;

// Collects small writes into large ones for a file descriptor, written from offset 0 with pwrite:
// the output may be the scratch file itself (OpenTarget::output), read through a descriptor that
// shares its file offset, so the writer must not move that offset.
class BufferedWriter {
 public:
  BufferedWriter(int fd, std::string label) : fd_(fd), label_(std::move(label)) {
    buffer_.reserve(kWriteBufferBytes);
  }
  Status write(std::span<const std::uint8_t> bytes) {
    if (buffer_.size() + bytes.size() > kWriteBufferBytes) KBIX_TRY(flush());
    if (bytes.size() >= kWriteBufferBytes) return write_all(bytes);
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return ok();
  }
  Status flush() {
    auto written = write_all(buffer_);
    OPENSSL_cleanse(buffer_.data(), buffer_.size());
    buffer_.clear();
    return written;
  }
  std::uint64_t written() const noexcept { return offset_ + buffer_.size(); }
  ~BufferedWriter() { OPENSSL_cleanse(buffer_.data(), buffer_.size()); }
  BufferedWriter(const BufferedWriter&) = delete;
  BufferedWriter& operator=(const BufferedWriter&) = delete;

 private:
  Status write_all(std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
      const ssize_t written =
          ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset_));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        return fail("io.write", label_ + ": write failed: " + std::strerror(errno));
      }
      bytes = bytes.subspan(static_cast<std::size_t>(written));
      offset_ += static_cast<std::uint64_t>(written);
    }
    return ok();
  }
  int fd_;
  std::string label_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t offset_ = 0;
};

// Cuts `fd` to its first `length` bytes. What lies beyond them (when the content was compacted
// in place in the scratch file: the SignedData's structure and stale copies of the content) is
// overwritten with zeros first, so no plaintext is left in pages the file gives back.
Status cut_to(int fd, std::uint64_t length, const std::string& label) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) return fail("io.write", label + ": cannot size: " + std::strerror(errno));
  static constexpr std::array<std::uint8_t, 64 * 1024> kZeros{};
  for (auto at = static_cast<off_t>(length); at < end;) {
    const auto step =
        static_cast<std::size_t>(std::min<off_t>(end - at, static_cast<off_t>(kZeros.size())));
    const ssize_t written = ::pwrite(fd, kZeros.data(), step, at);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return fail("io.write", label + ": wipe failed: " + std::strerror(errno));
    at += written;
  }
  if (static_cast<std::uint64_t>(end) > length &&
      ::ftruncate(fd, static_cast<off_t>(length)) != 0) {
    return fail("io.write", label + ": cannot cut: " + std::strerror(errno));
  }
  return ok();
}

// A private scratch file without a name: created next to the output and unlinked at once, so
// the decrypted SignedData disappears with the descriptor, even when the process is killed.
class ScratchFile {
 public:
  static Result<ScratchFile> create(const std::filesystem::path& near) {
    const auto dir = near.has_parent_path() ? near.parent_path() : std::filesystem::path(".");
    std::string pattern = (dir / ".kbix-open-XXXXXX").string();
    const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) {
      return fail("io.create",
                  dir.string() + ": cannot create a scratch file: " + std::strerror(errno));
    }
    ::unlink(pattern.c_str());
    return ScratchFile(fd);
  }
  ScratchFile(ScratchFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScratchFile& operator=(ScratchFile&&) = delete;
  ~ScratchFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

 private:
  explicit ScratchFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

bool addressed_to(CMS_ContentInfo* cms, const Certificate& ours) {
  STACK_OF(CMS_RecipientInfo)* infos = CMS_get0_RecipientInfos(cms);
  for (int i = 0; infos != nullptr && i < sk_CMS_RecipientInfo_num(infos); ++i) {
    CMS_RecipientInfo* info = sk_CMS_RecipientInfo_value(infos, i);
    const int type = CMS_RecipientInfo_type(info);
    if (type == CMS_RECIPINFO_TRANS && CMS_RecipientInfo_ktri_cert_cmp(info, ours.native()) == 0) {
      return true;
    }
    if (type == CMS_RECIPINFO_AGREE) {
      STACK_OF(CMS_RecipientEncryptedKey)* keys = CMS_RecipientInfo_kari_get0_reks(info);
      for (int k = 0; keys != nullptr && k < sk_CMS_RecipientEncryptedKey_num(keys); ++k) {
        if (CMS_RecipientEncryptedKey_cert_cmp(sk_CMS_RecipientEncryptedKey_value(keys, k),
                                               ours.native()) == 0) {
          return true;
        }
      }
    }
  }
  ERR_clear_error();
  return false;
}

// Parses what surrounds the content (the content itself cut out) as a detached CMS structure.
Result<CmsPtr> parse_detached(FileSource& source, const CmsOutline& outline) {
  KBIX_ASSIGN_OR_RETURN(auto bytes, read_detached(source.fd(), outline, kMaxStructureBytes));
  const unsigned char* cursor = bytes.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(bytes.size())));
  if (!cms) return fail("envelope.malformed", "not a valid CMS structure: " + openssl_reason());
  return cms;
}

// Decrypts the envelope's content into `inner`. The cipher context comes from CMS_dataInit,
// which has unwrapped the content key and set the IV and (GCM) the expected tag.
Status decrypt_content(CMS_ContentInfo* enveloped, FileSource& source, const CmsOutline& outline,
                       BufferedWriter& inner, EnvelopeProfile profile) {
  BioPtr nothing(BIO_new(BIO_s_mem()));  // CMS_dataInit wants a content BIO; we feed the cipher
  BIO* chain = nothing ? CMS_dataInit(enveloped, nothing.get()) : nullptr;
  EVP_CIPHER_CTX* cipher = nullptr;
  if (chain == nullptr || BIO_get_cipher_ctx(chain, &cipher) <= 0 || cipher == nullptr) {
    free_chain_until(chain, nothing.get());
    return fail("envelope.decrypt_failed", "cannot set up decryption: " + openssl_reason());
  }
  std::vector<std::uint8_t> plain(64 * 1024 + EVP_MAX_BLOCK_LENGTH);
  auto decrypt = [&](std::span<const std::uint8_t> piece) -> Status {
    while (!piece.empty()) {
      const std::size_t step = std::min<std::size_t>(piece.size(), 64 * 1024);
      int produced = 0;
      if (EVP_DecryptUpdate(cipher, plain.data(), &produced, piece.data(),
                            static_cast<int>(step)) != 1) {
        return fail("envelope.integrity", "decryption failed: " + openssl_reason());
      }
      KBIX_TRY(inner.write(std::span(plain.data(), static_cast<std::size_t>(produced))));
      piece = piece.subspan(step);
    }
    return ok();
  };
  auto streamed = [&]() -> Status {
    KBIX_TRY(source.seek(outline.content->start));
    KBIX_TRY(stream_content(source, outline, decrypt));
    int produced = 0;
    // A wrong GCM tag fails here with an EMPTY OpenSSL error queue: the return value is the signal.
    if (EVP_DecryptFinal_ex(cipher, plain.data(), &produced) != 1) {
      return fail("envelope.integrity",
                  profile == EnvelopeProfile::gcm
                      ? "integrity check failed (GCM tag does not verify)"
                      : "decryption failed (damaged ciphertext or padding): " + openssl_reason());
    }
    return inner.write(std::span(plain.data(), static_cast<std::size_t>(produced)));
  }();
  OPENSSL_cleanse(plain.data(), plain.size());
  free_chain_until(chain, nothing.get());
  ERR_clear_error();
  return streamed;
}

// The signed attribute signingTime of `signer` (RFC 5652 11.3: exactly one, one value, UTCTime
// or GeneralizedTime); nullopt when it has none.
Result<std::optional<std::chrono::system_clock::time_point>> signing_time_of(
    CMS_SignerInfo* signer) {
  const int index = CMS_signed_get_attr_by_NID(signer, NID_pkcs9_signingTime, -1);
  if (index < 0) {
    ERR_clear_error();
    return std::optional<std::chrono::system_clock::time_point>();
  }
  if (CMS_signed_get_attr_by_NID(signer, NID_pkcs9_signingTime, index) >= 0) {
    return fail("envelope.malformed", "more than one signingTime attribute");
  }
  X509_ATTRIBUTE* attribute = CMS_signed_get_attr(signer, index);
  ASN1_TYPE* value = attribute != nullptr && X509_ATTRIBUTE_count(attribute) == 1
                         ? X509_ATTRIBUTE_get0_type(attribute, 0)
                         : nullptr;
  std::tm when{};
  if (value == nullptr ||
      (value->type != V_ASN1_UTCTIME && value->type != V_ASN1_GENERALIZEDTIME) ||
      ASN1_TIME_to_tm(value->value.utctime, &when) != 1) {
    ERR_clear_error();
    return fail("envelope.malformed", "the signingTime attribute is not a valid time");
  }
  return std::optional(std::chrono::system_clock::from_time_t(::timegm(&when)));
}

// Invariant 13: every signer states when it signed, within the window the caller allows.
Result<std::optional<std::chrono::system_clock::time_point>> check_signing_times(
    STACK_OF(CMS_SignerInfo) * signers, const std::optional<OpenerConfig::SigningWindow>& window,
    const std::string& name) {
  std::optional<std::chrono::system_clock::time_point> first;
  for (int i = 0; i < sk_CMS_SignerInfo_num(signers); ++i) {
    auto time = signing_time_of(sk_CMS_SignerInfo_value(signers, i));
    if (!time) {
      Error error = std::move(time).error();
      error.message = name + ": " + error.message;
      return fail(std::move(error));
    }
    if (i == 0) first = *time;
    if (!window) continue;
    if (!*time) {
      return fail("envelope.no_signing_time",
                  name + ": the signature carries no signingTime; it cannot be bound to this run");
    }
    if (**time < window->not_before) {
      return fail("envelope.stale_signature",
                  name + ": signed at " + utc_timestamp(**time) + ", before this run's upload (" +
                      utc_timestamp(window->not_before) +
                      " with the allowed clock skew): an earlier file, refused");
    }
    if (**time > window->not_after) {
      return fail("envelope.future_signature", name + ": signed at " + utc_timestamp(**time) +
                                                   ", later than now plus the allowed " +
                                                   "clock skew (" +
                                                   utc_timestamp(window->not_after) + ")");
    }
  }
  return first;
}

// Names the file in an error's message (the walker and helpers do not know it).
Error named(Error error, const std::string& name) {
  error.message = name + ": " + error.message;
  return error;
}

Status prefixed(Status status, const std::string& name) {
  if (status) return status;
  return fail(named(std::move(status).error(), name));
}

struct OurKey {
  Certificate certificate;
  PrivateKey key;
};

Result<OurKey> load_our_key(const std::filesystem::path& certificate_file,
                            const std::filesystem::path& key_file,
                            const std::optional<std::filesystem::path>& passphrase_file) {
  auto certificate = Certificate::load(certificate_file);
  if (!certificate) return fail(std::move(certificate).error());
  auto key = PrivateKey::load(key_file, passphrase_file);
  if (!key) return fail(std::move(key).error());
  if (!key->matches(*certificate)) {
    return fail("envelope.key_mismatch", key_file.string() + ": does not match the certificate " +
                                             certificate_file.string());
  }
  return OurKey{std::move(*certificate), std::move(*key)};
}

// Opener::open's target: the scratch file next to the output, the output an AtomicFile.
class FileTarget final : public OpenTarget {
 public:
  explicit FileTarget(std::filesystem::path output) : path_(std::move(output)) {}
  Result<int> scratch() override {
    auto created = ScratchFile::create(path_);
    if (!created) return fail(std::move(created).error());
    scratch_.emplace(std::move(*created));
    return scratch_->fd();
  }
  Result<int> output() override {
    auto created = AtomicFile::create(path_, 0600);
    if (!created) return fail(std::move(created).error());
    file_.emplace(std::move(*created));
    return file_->fd();
  }
  std::string output_label() const override {
    return file_ ? file_->temp_path().string() : path_.string();
  }
  Status commit() override { return file_->commit(); }

 private:
  std::filesystem::path path_;
  std::optional<ScratchFile> scratch_;
  std::optional<AtomicFile> file_;
};

}  // namespace

struct Opener::State {
  std::vector<OurKey> our_keys;  // the current one first, then the previous ones
  std::vector<Certificate> pinned_signers;
  bool signer_valid_at_signing_time;
  std::uint64_t max_input_bytes;
  std::optional<EnvelopeProfile> required_profile;
  std::optional<OpenerConfig::SigningWindow> signing_window;
};

Result<Opener> Opener::create(const OpenerConfig& config) {
  std::vector<OurKey> our_keys;
  auto current = load_our_key(config.our_certificate, config.our_key, config.key_passphrase_file);
  if (!current) return fail(std::move(current).error());
  our_keys.push_back(std::move(*current));
  for (const auto& previous : config.previous_keys) {
    auto loaded = load_our_key(previous.certificate, previous.key, config.key_passphrase_file);
    if (!loaded) return fail(std::move(loaded).error());
    our_keys.push_back(std::move(*loaded));
  }
  if (config.pinned_signer_certificates.empty()) {
    return fail("envelope.no_pinned_signer", "an opener needs at least one pinned signer");
  }
  std::vector<Certificate> pins;
  for (const auto& file : config.pinned_signer_certificates) {
    KBIX_ASSIGN_OR_RETURN(auto pin, Certificate::load(file));
    pins.push_back(std::move(pin));
  }
  return Opener(std::make_shared<const State>(
      State{std::move(our_keys), std::move(pins), config.signer_valid_at_signing_time,
            config.max_input_bytes, config.required_profile, config.signing_window}));
}

Result<OpenReport> Opener::open(const std::filesystem::path& input,
                                const std::filesystem::path& output) const {
  FileTarget target(output);
  return open_to(input, target, state_->max_input_bytes);
}

Result<OpenReport> Opener::open_to(const std::filesystem::path& input,
                                   envelope_detail::OpenTarget& target,
                                   std::uint64_t max_input_bytes) const {
  const std::string name = input.filename().string();
  const auto size = size_of_file(input);
  if (!size) return fail("io.open", input.string() + ": cannot open for reading");
  const std::uint64_t limit = std::min(max_input_bytes, state_->max_input_bytes);
  if (*size > limit) {
    return fail("envelope.too_large", name + ": " + std::to_string(*size) +
                                          " bytes is more than the limit of " +
                                          std::to_string(limit));
  }

  // 1. The envelope: our own bounded walk first (truncation, damage, tag length), then OpenSSL
  //    parses what surrounds the ciphertext, finds our RecipientInfo and unwraps the key.
  KBIX_ASSIGN_OR_RETURN(auto source, FileSource::open(input));
  auto outline = outline_cms(source);
  if (!outline) return fail(named(std::move(outline).error(), name));
  if (outline->kind != CmsContentKind::auth_enveloped &&
      outline->kind != CmsContentKind::enveloped) {
    return fail("envelope.not_encrypted", name + ": a CMS file, but not an encrypted one");
  }
  OpenReport report;
  report.profile =
      outline->kind == CmsContentKind::auth_enveloped ? EnvelopeProfile::gcm : EnvelopeProfile::cbc;
  if (state_->required_profile && *state_->required_profile != report.profile) {
    return fail("envelope.profile_mismatch",
                name + ": the envelope is " + std::string(to_string(report.profile)) +
                    ", but the profile agreed with this partner is " +
                    std::string(to_string(*state_->required_profile)) + "; refused");
  }
  if (report.profile == EnvelopeProfile::gcm &&
      (outline->mac_length != kGcmTagBytes || outline->declared_tag_length != kGcmTagBytes)) {
    return fail("envelope.short_tag",
                name + ": the GCM tag is " + std::to_string(outline->mac_length) +
                    " bytes (declared " + std::to_string(outline->declared_tag_length) +
                    "); exactly 16 are required");
  }
  if (!outline->content) return fail("envelope.malformed", name + ": no encrypted content");
  auto enveloped = parse_detached(source, *outline);
  if (!enveloped) return fail(named(std::move(enveloped).error(), name));
  // Rollover: the current key first, then the previous ones, each only if the file names it.
  const OurKey* opened_with = nullptr;
  for (const auto& ours : state_->our_keys) {
    if (!addressed_to(enveloped->get(), ours.certificate)) continue;
    if (CMS_decrypt_set1_pkey_and_peer(enveloped->get(), ours.key.native(),
                                       ours.certificate.native(), nullptr) != 1) {
      return fail(
          "envelope.decrypt_failed",
          name + ": the content key does not decrypt with our private key: " + openssl_reason());
    }
    opened_with = &ours;
    break;
  }
  if (opened_with == nullptr) {
    return fail("envelope.not_for_us",
                name + ": not encrypted to our certificate \"" +
                    state_->our_keys.front().certificate.subject() + "\"" +
                    (state_->our_keys.size() > 1 ? " nor to a previous one" : ""));
  }
  report.decryption_fingerprint_sha256 = opened_with->certificate.fingerprint_sha256();

  // 2. Decrypt into an unnamed scratch file (gone with its descriptor).
  auto scratch = target.scratch();
  if (!scratch) return fail(std::move(scratch).error());
  {
    BufferedWriter inner(*scratch, "scratch file for " + name);
    KBIX_TRY(
        prefixed(decrypt_content(enveloped->get(), source, *outline, inner, report.profile), name));
    KBIX_TRY(inner.flush());
  }
  enveloped->reset();

  // 3. The SignedData: walk it, cut out its content, and verify the pinned signer over the
  //    content streamed into the output's temporary file.
  KBIX_ASSIGN_OR_RETURN(auto inner_source,
                        FileSource::adopt(::dup(*scratch), "scratch file for " + name));
  auto inner_outline = outline_cms(inner_source);
  if (!inner_outline || inner_outline->kind != CmsContentKind::signed_data ||
      !inner_outline->content) {
    return fail("envelope.not_signed",
                name + ": the decrypted content is not an attached CMS SignedData" +
                    (inner_outline ? std::string() : ": " + inner_outline.error().message));
  }
  auto signed_data = parse_detached(inner_source, *inner_outline);
  if (!signed_data) {
    return fail("envelope.not_signed", name + ": " + signed_data.error().message);
  }
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(signed_data->get());
  if (signers == nullptr || sk_CMS_SignerInfo_num(signers) == 0) {
    return fail("envelope.not_signed", name + ": the SignedData has no signer");
  }
  CertStackPtr pins(sk_X509_new_null());
  const Certificate* matched = nullptr;
  for (const auto& pin : state_->pinned_signers) sk_X509_push(pins.get(), pin.native());
  for (int i = 0; i < sk_CMS_SignerInfo_num(signers); ++i) {
    const Certificate* found = nullptr;
    for (const auto& pin : state_->pinned_signers) {
      if (CMS_SignerInfo_cert_cmp(sk_CMS_SignerInfo_value(signers, i), pin.native()) == 0) {
        found = &pin;
      }
    }
    if (found == nullptr) {
      return fail("envelope.unknown_signer",
                  name + ": signed by a certificate that is not pinned for this partner");
    }
    // Our own files are kept for years: their signer must have been valid when it signed (the
    // signingTime is covered by the signature verified below).
    std::time_t at = std::time(nullptr);
    std::string at_text;
    if (state_->signer_valid_at_signing_time) {
      auto signed_at = signing_time_of(sk_CMS_SignerInfo_value(signers, i));
      if (signed_at && *signed_at) {
        at = std::chrono::system_clock::to_time_t(**signed_at);
        at_text = "its signing time " + utc_timestamp(**signed_at);
      }
    }
    KBIX_TRY(prefixed(check_validity(*found, "signer", "envelope.signer_not_yet_valid",
                                     "envelope.signer_expired", at, at_text),
                      name));
    if (matched == nullptr) matched = found;
  }
  auto plaintext = target.output();
  if (!plaintext) return fail(std::move(plaintext).error());
  {
    BufferedWriter out(*plaintext, target.output_label());
    KBIX_TRY(inner_source.seek(inner_outline->content->start));
    KBIX_TRY(prefixed(
        stream_content(inner_source, *inner_outline,
                       [&](std::span<const std::uint8_t> bytes) { return out.write(bytes); }),
        name));
    KBIX_TRY(out.flush());
    KBIX_TRY(cut_to(*plaintext, out.written(), target.output_label()));
  }
  // CMS_verify reads the content back through the same (read-write) descriptor, 4 KiB a call:
  // a read buffer in front of it saves most of the system calls.
  BioPtr content(::lseek(*plaintext, 0, SEEK_SET) == 0 ? buffered_fd_reader(*plaintext) : nullptr);
  const int flags = CMS_BINARY | CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY;
  if (!content ||
      CMS_verify(signed_data->get(), pins.get(), nullptr, content.get(), nullptr, flags) != 1) {
    return fail("envelope.bad_signature",
                name + ": the signature does not verify: " + openssl_reason());
  }
  content.reset();
  auto signing_time = check_signing_times(signers, state_->signing_window, name);
  if (!signing_time) return fail(std::move(signing_time).error());
  report.signing_time = *signing_time;
  signed_data->reset();
  ERR_clear_error();  // lookups on the way (certificate comparisons) may leave entries behind
  KBIX_TRY(target.commit());
  report.signer_fingerprint_sha256 = matched->fingerprint_sha256();
  report.plaintext_bytes = inner_outline->content_bytes;
  spdlog::debug("envelope: opened {} ({} plaintext bytes, profile {})", name,
                report.plaintext_bytes, to_string(report.profile));
  return report;
}

}  // namespace kbix
