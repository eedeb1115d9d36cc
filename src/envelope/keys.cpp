#include "kbix/envelope/keys.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>

#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix {
namespace {

// Passphrases and key files are small; anything bigger is not what we expect.
constexpr std::size_t kMaxPassphraseBytes = 1024;

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return {};
  return std::chrono::system_clock::from_time_t(::timegm(&parts));
}

KeyType type_of(const EVP_PKEY* key) {
  if (key == nullptr) return KeyType::other;
  if (EVP_PKEY_is_a(key, "RSA")) return KeyType::rsa;
  if (EVP_PKEY_is_a(key, "EC")) return KeyType::ec;
  return KeyType::other;
}

std::string spki_fingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return {};
  auto digest = sha256(
      std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return to_hex(digest);
}

// The passphrase callback reads from this buffer; OpenSSL copies it out.
struct Passphrase {
  std::string text;
  bool supplied = false;
  bool asked = false;
  ~Passphrase() { OPENSSL_cleanse(text.data(), text.size()); }
};

int passphrase_callback(char* buffer, int size, int /*rwflag*/, void* user) {
  auto* passphrase = static_cast<Passphrase*>(user);
  passphrase->asked = true;
  if (!passphrase->supplied || size <= 0) return -1;
  const std::size_t length = std::min(passphrase->text.size(), static_cast<std::size_t>(size));
  std::memcpy(buffer, passphrase->text.data(), length);
  return static_cast<int>(length);
}

}  // namespace

// ---- Certificate -------------------------------------------------------------------------------

Result<Certificate> Certificate::load(const std::filesystem::path& file) {
  KBIX_ASSIGN_OR_RETURN(auto bytes, read_small_file(file, 1 << 20, "keys.unreadable"));
  BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  if (certificate == nullptr) {
    (void)BIO_reset(bio);
    certificate = d2i_X509_bio(bio, nullptr);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (certificate == nullptr) {
    return fail("keys.bad_certificate", file.string() + ": not a PEM or DER X.509 certificate");
  }
  return adopt(certificate);
}

Certificate Certificate::adopt(X509* certificate) {
  return Certificate(std::shared_ptr<X509>(certificate, X509_free));
}

std::string Certificate::subject() const {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(native()), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return text;
}

std::string Certificate::fingerprint_sha256() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(native(), EVP_sha256(), digest, &length) != 1) return {};
  return to_hex(std::span<const std::uint8_t>(digest, length));
}

std::chrono::system_clock::time_point Certificate::not_before() const {
  return to_time_point(X509_get0_notBefore(native()));
}

std::chrono::system_clock::time_point Certificate::not_after() const {
  return to_time_point(X509_get0_notAfter(native()));
}

KeyType Certificate::key_type() const {
  return type_of(X509_get0_pubkey(native()));
}

int Certificate::key_bits() const {
  const EVP_PKEY* key = X509_get0_pubkey(native());
  return key == nullptr ? 0 : EVP_PKEY_get_bits(key);
}

// ---- PrivateKey --------------------------------------------------------------------------------

Result<PrivateKey> PrivateKey::load(const std::filesystem::path& file,
                                    const std::optional<std::filesystem::path>& passphrase_file) {
  KBIX_TRY(check_private_file(file));
  Passphrase passphrase;
  if (passphrase_file) {
    KBIX_TRY(check_private_file(*passphrase_file));
    auto text = read_small_file(*passphrase_file, kMaxPassphraseBytes, "keys.unreadable");
    if (!text) return fail(std::move(text).error());
    passphrase.text = std::move(*text);
    // The first line is the passphrase (a trailing newline from `echo` is not part of it).
    if (const auto end = passphrase.text.find_first_of("\r\n"); end != std::string::npos) {
      OPENSSL_cleanse(passphrase.text.data() + end, passphrase.text.size() - end);
      passphrase.text.resize(end);
    }
    passphrase.supplied = true;
  }
  KBIX_ASSIGN_OR_RETURN(auto pem, read_small_file(file, 1 << 20, "keys.unreadable"));
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, passphrase_callback, &passphrase);
  BIO_free(bio);
  OPENSSL_cleanse(pem.data(), pem.size());
  ERR_clear_error();
  if (key == nullptr) {
    if (passphrase.asked && !passphrase.supplied) {
      return fail("keys.passphrase_needed",
                  file.string() + ": the key is encrypted and no passphrase file is configured");
    }
    return fail("keys.bad_key",
                file.string() + (passphrase.asked ? ": wrong passphrase or damaged key"
                                                  : ": not a PEM private key"));
  }
  return PrivateKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

KeyType PrivateKey::key_type() const {
  return type_of(native());
}
int PrivateKey::key_bits() const {
  return EVP_PKEY_get_bits(native());
}
std::string PrivateKey::public_key_fingerprint_sha256() const {
  return spki_fingerprint(native());
}

bool PrivateKey::matches(const Certificate& certificate) const {
  const bool same = X509_check_private_key(certificate.native(), native()) == 1;
  ERR_clear_error();
  return same;
}

Result<std::filesystem::path> newest_valid_certificate(
    const std::vector<std::filesystem::path>& certificates,
    std::chrono::system_clock::time_point now) {
  if (certificates.empty()) return fail("keys.unreadable", "no certificate is configured");
  const std::filesystem::path* chosen = nullptr;
  std::optional<Certificate> best;
  for (const auto& file : certificates) {
    auto certificate = Certificate::load(file);
    if (!certificate || certificate->not_before() > now || certificate->not_after() <= now) {
      continue;
    }
    const bool newer = !best || certificate->not_before() > best->not_before() ||
                       (certificate->not_before() == best->not_before() &&
                        certificate->not_after() > best->not_after());
    if (newer) {
      best = std::move(*certificate);
      chosen = &file;
    }
  }
  return chosen != nullptr ? *chosen : certificates.back();
}

}  // namespace kbix
