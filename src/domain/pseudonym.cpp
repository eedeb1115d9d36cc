#include "kbix/domain/pseudonym.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix {

// A pseudonym key is at least 32 random bytes; a file far bigger is not a key file.
constexpr std::size_t kMaxPseudonymKeyBytes = 4096;

struct PseudonymKey::Secret {
  std::vector<unsigned char> bytes;
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Result<PseudonymKey> PseudonymKey::load(const std::filesystem::path& key_file) {
  KBIX_TRY(check_private_file(key_file));
  KBIX_ASSIGN_OR_RETURN(
      auto text, read_small_file(key_file, kMaxPseudonymKeyBytes, "pseudonym.key_unreadable"));
  auto secret = std::make_shared<Secret>();
  secret->bytes.assign(text.begin(), text.end());
  OPENSSL_cleanse(text.data(), text.size());
  if (secret->bytes.size() < 32) {
    return fail("pseudonym.key_too_short",
                key_file.string() + ": a pseudonym key needs at least 32 random bytes, found " +
                    std::to_string(secret->bytes.size()));
  }
  PseudonymKey key;
  key.key_id_ = to_hex(sha256(std::string_view(reinterpret_cast<const char*>(secret->bytes.data()),
                                               secret->bytes.size())))
                    .substr(0, 16);
  key.secret_ = std::move(secret);
  return key;
}

std::string PseudonymKey::pseudo_id(const Insz& insz) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const std::string& digits = insz.digits();
  HMAC(EVP_sha256(), secret_->bytes.data(), static_cast<int>(secret_->bytes.size()),
       reinterpret_cast<const unsigned char*>(digits.data()), digits.size(), mac, &length);
  return to_hex(std::span<const std::uint8_t>(mac, 16));
}

}  // namespace kbix
