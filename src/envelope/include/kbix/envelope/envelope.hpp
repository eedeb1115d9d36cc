// Envelope: sign-then-encrypt files with OpenSSL CMS, readable by the partner's `openssl cms`.
//
// Sealer: plaintext file -> DER CMS file. The plaintext is signed (SignedData, SHA-256, attached,
// our signing certificate included) and the SignedData encrypted to every recipient certificate:
// profile `gcm` = AuthEnvelopedData AES-256-GCM with a 16-byte tag (default), profile `cbc` =
// EnvelopedData AES-256-CBC. RSA recipients (>= 3072 bits) get RSA-OAEP SHA-256/MGF1-SHA-256, EC
// recipients ECDH with the X9.63 SHA-256 KDF and AES-256 key wrap. Sealing streams in constant
// memory; the output appears (atomically, mode 0600) only when complete.
// To seal a snapshot for ourselves only, give our own encryption certificate as sole recipient.
//
// Opener: DER CMS file -> plaintext file, written under a temporary name and renamed into place
// only after the tag (gcm) and the signature verified. The signer must be one of the pinned partner
// certificates; certificates carried in the file are ignored. Opening streams too (constant
// memory): only the structure around the content (at most 1 MiB) is parsed in memory, and the
// decrypted SignedData passes through an unnamed scratch file next to the output (unlinked at
// creation, so it vanishes even if the process is killed); about twice the file size must be free.
// A small secret is sealed from and opened into memory instead (kbix/envelope/sealed_bytes.hpp):
// the same checks, with both descriptors in anonymous memory.
//
// Error codes ("envelope.*" unless noted): recipient_expired, recipient_not_yet_valid,
// recipient_key_usage, recipient_key_type, recipient_weak_key, seal_failed; not_cms, truncated,
// malformed, too_large, not_encrypted, not_for_us, decrypt_failed, integrity, short_tag,
// not_signed, unknown_signer, signer_expired, signer_not_yet_valid, bad_signature,
// profile_mismatch, no_signing_time, stale_signature, future_signature; at creation
// key_mismatch, no_recipients, no_pinned_signer, bad_profile;
// keys.* and security.key_file_mode from key loading; io.* for files.
//
// Does NOT guarantee: that the plaintext is what the business expected (schema checks are the
// caller's), replay protection beyond the signing-time window (the caller remembers the SHA-256
// of every accepted file), or that the signer's
// certificate is unrevoked (partners are pinned, not validated against a CA), or that the
// RecipientInfos of OTHER recipients are intact (CMS does not authenticate them). AuthEnvelopedData
// with authenticated attributes is refused ("envelope.malformed"): neither kbix nor the openssl CLI
// writes them, and kbix does not interpret them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/envelope/keys.hpp"

struct bio_st;  // OpenSSL's BIO (openssl/types.h)

namespace kbix {

class SecretBytes;     // kbix/envelope/sealed_bytes.hpp
class OpenedInMemory;  // kbix/envelope/sealed_bytes.hpp
namespace envelope_detail {
class OpenTarget;  // internal/open_target.hpp
}

enum class EnvelopeProfile { gcm, cbc };

// "gcm" or "cbc"; anything else is "envelope.bad_profile".
Result<EnvelopeProfile> parse_envelope_profile(std::string_view name);
std::string_view to_string(EnvelopeProfile profile);

struct SealerConfig {
  std::filesystem::path signing_certificate;
  std::filesystem::path signing_key;
  std::optional<std::filesystem::path> key_passphrase_file;
  std::vector<std::filesystem::path> recipient_certificates;  // partner's and our own
  EnvelopeProfile profile = EnvelopeProfile::gcm;
};

struct SealReport {
  std::uint64_t plaintext_bytes = 0;
  std::uint64_t sealed_bytes = 0;
  // SHA-256 (hex) of the plaintext, as signed (the signature's messageDigest attribute), and of
  // the sealed file, taken while it was written: the caller need not read either file again.
  std::string plaintext_sha256;
  std::string sealed_sha256;
};

class Sealer {
 public:
  // Loads the key and certificates and checks the recipients (see seal()).
  static Result<Sealer> create(const SealerConfig& config);

  // Streams `input` into a sealed `output` (replaced atomically). Each recipient certificate is
  // checked first: valid now, key usage allows keyEncipherment (RSA) / keyAgreement (EC),
  // RSA >= 3072 bits; a refusal names the certificate's subject.
  Result<SealReport> seal(const std::filesystem::path& input,
                          const std::filesystem::path& output) const;
  // The same from an open descriptor (read from offset 0, not closed): an untrusted input is
  // opened once (kbix/core/input_file.hpp) and read only through it.
  Result<SealReport> seal(int input_fd, std::string_view input_name,
                          const std::filesystem::path& output) const;

 private:
  Result<SealReport> seal_bio(::bio_st* in, std::string_view input_name,
                              const std::filesystem::path& output) const;
  struct State;
  explicit Sealer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

struct OpenerConfig {
  std::filesystem::path our_certificate;  // our encryption certificate
  std::filesystem::path our_key;
  std::optional<std::filesystem::path> key_passphrase_file;
  // Rollover: our earlier certificates and keys, tried after the current one, in this order (a
  // file is opened with the first pair it is addressed to). Each key must match its certificate.
  struct KeyFiles {
    std::filesystem::path certificate;
    std::filesystem::path key;
  };
  std::vector<KeyFiles> previous_keys;
  // Each pin is accepted only inside its own validity period: now (returns), or, with
  // signer_valid_at_signing_time, at the signature's signingTime (our own files kept for years).
  std::vector<std::filesystem::path> pinned_signer_certificates;
  bool signer_valid_at_signing_time = false;
  // Named limit on the sealed file's size (memory does not grow with it; disk needs about 2x).
  std::uint64_t max_input_bytes = 64ULL << 30;
  // Binding a return to its run (invariant 13). The envelope must be this profile, else
  // "envelope.profile_mismatch" (no CBC from a GCM partner, and no GCM from a CBC one).
  std::optional<EnvelopeProfile> required_profile{};
  // Every signer must carry the signed attribute signingTime ("envelope.no_signing_time"), and
  // it must lie in [not_before, not_after] ("envelope.stale_signature",
  // "envelope.future_signature"); checked after the signature verified (it is signed).
  struct SigningWindow {
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
  };
  std::optional<SigningWindow> signing_window{};
};

struct OpenReport {
  std::string signer_fingerprint_sha256;      // of the pinned certificate that verified
  std::string decryption_fingerprint_sha256;  // of our certificate whose key opened the file
  std::uint64_t plaintext_bytes = 0;
  EnvelopeProfile profile = EnvelopeProfile::gcm;
  // The first signer's signingTime, when it carries one (whole seconds, UTC).
  std::optional<std::chrono::system_clock::time_point> signing_time;
};

class Opener {
 public:
  // Loads our key and certificate (they must match: "envelope.key_mismatch") and the pins.
  static Result<Opener> create(const OpenerConfig& config);

  Result<OpenReport> open(const std::filesystem::path& input,
                          const std::filesystem::path& output) const;

 private:
  // open() and open_bytes() share every check; only where the plaintext goes differs.
  friend Result<SecretBytes> open_bytes(const Opener& opener, const std::filesystem::path& input,
                                        std::size_t max_bytes);
  friend Result<OpenedInMemory> open_into_memory(const Opener& opener,
                                                 const std::filesystem::path& input);
  Result<OpenReport> open_to(const std::filesystem::path& input,
                             envelope_detail::OpenTarget& target,
                             std::uint64_t max_input_bytes) const;
  struct State;
  explicit Opener(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace kbix
