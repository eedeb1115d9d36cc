// Keys: loading X.509 certificates and PEM private keys, and the choice among a rollover list.
//
// Callers hold Certificate and PrivateKey objects, never raw key bytes. A private key file (and a
// passphrase file) readable or writable by group or others is refused before it is read
// (invariant 7). Passphrases are wiped from memory after use.
//
// Does NOT guarantee: that a certificate chains to any CA (partners are pinned, not validated),
// that it is not revoked, or that the key memory of OpenSSL itself is locked against swapping.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"

typedef struct x509_st X509;          // NOLINT: OpenSSL's own spelling
typedef struct evp_pkey_st EVP_PKEY;  // NOLINT

namespace kbix {

enum class KeyType { rsa, ec, other };

class Certificate {
 public:
  // Reads one PEM (or DER) certificate. Errors: "keys.unreadable", "keys.bad_certificate".
  static Result<Certificate> load(const std::filesystem::path& file);
  // Takes ownership of an X509 (used by tests and by the envelope module).
  static Certificate adopt(X509* certificate);

  std::string subject() const;             // one line, RFC 2253
  std::string fingerprint_sha256() const;  // lowercase hex of the DER certificate
  std::chrono::system_clock::time_point not_before() const;
  std::chrono::system_clock::time_point not_after() const;
  KeyType key_type() const;
  int key_bits() const;

  X509* native() const noexcept { return certificate_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> certificate) : certificate_(std::move(certificate)) {}
  std::shared_ptr<X509> certificate_;
};

class PrivateKey {
 public:
  // Refuses a group/other-accessible file ("security.key_file_mode"), then reads a PEM private
  // key, decrypting it with the first line of `passphrase_file` when given (e.g. a systemd
  // credential: $CREDENTIALS_DIRECTORY/<name>). Errors: "keys.unreadable", "keys.bad_key"
  // (not a key, or wrong passphrase), "keys.passphrase_needed".
  static Result<PrivateKey> load(const std::filesystem::path& file,
                                 const std::optional<std::filesystem::path>& passphrase_file = {});

  KeyType key_type() const;
  int key_bits() const;
  // SHA-256 of the DER public key (SubjectPublicKeyInfo): safe to log, matches the certificate.
  std::string public_key_fingerprint_sha256() const;
  bool matches(const Certificate& certificate) const;

  EVP_PKEY* native() const noexcept { return key_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

// Rollover: of a list of certificates, the one to use now: valid at `now`, and of those the one
// issued last (latest notBefore; ties: latest notAfter). When none is valid (or none can be
// read), the last listed, so that using it reports the precise reason. Empty list: error
// "keys.unreadable".
Result<std::filesystem::path> newest_valid_certificate(
    const std::vector<std::filesystem::path>& certificates,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace kbix
