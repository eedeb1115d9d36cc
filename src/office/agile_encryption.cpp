// The agile-encryption glue is written by hand (MS-OFFCRYPTO 2.3.4.10–2.3.4.15 and 2.1–2.2):
// no Debian library writes ECMA-376 agile encryption. Everything below only arranges bytes;
// the cryptography is OpenSSL's (EVP, RAND_bytes, HMAC) and the container is libgsf's.
#include "kbix/office/agile_encryption.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <initializer_list>
#include <memory>

#include "internal/compound_file.hpp"

namespace kbix::office {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;   // AES-256
constexpr std::size_t kHashBytes = 64;  // SHA-512
constexpr std::size_t kBlockBytes = 16;

// Block keys of MS-OFFCRYPTO 2.3.4.11, 2.3.4.13 and 2.3.4.14.
constexpr std::string_view kVerifierInputBlock{"\xfe\xa7\xd2\x76\x3b\x4b\x9e\x79", 8};
constexpr std::string_view kVerifierValueBlock{"\xd7\xaa\x0f\x6d\x30\x61\x34\x4e", 8};
constexpr std::string_view kEncryptedKeyBlock{"\x14\x6e\x0b\xe7\xab\xac\xd0\xd6", 8};
constexpr std::string_view kHmacKeyBlock{"\x5f\xb2\xad\x01\x0c\xb9\xe1\xf6", 8};
constexpr std::string_view kHmacValueBlock{"\xa0\x67\x7f\x02\xb2\x2c\x84\x33", 8};

// Binary bytes that are wiped when they go (keys, hashes of the password, the HMAC key).
struct Secret {
  std::string bytes;
  Secret() = default;
  explicit Secret(std::string b) : bytes(std::move(b)) {}
  Secret(Secret&& other) noexcept : bytes(std::move(other.bytes)) {
    OPENSSL_cleanse(other.bytes.data(), other.bytes.capacity());  // a short string is copied
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Unexpected<Error> crypto_failed(std::string_view step) {
  return fail("office.crypto", "agile encryption: OpenSSL failed while " + std::string(step));
}

std::string little_endian(std::uint64_t value, std::size_t bytes) {
  std::string out(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

Result<Secret> random_bytes(std::size_t n) {
  Secret out(std::string(n, '\0'));
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.bytes.data()), static_cast<int>(n)) != 1)
    return fail("office.random", "the random generator (RAND_bytes) failed");
  return out;
}

struct DigestContext {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};

  // SHA-512 of the concatenation of `parts` into `out` (64 bytes).
  bool sha512(std::initializer_list<std::string_view> parts, unsigned char* out) {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1) return false;
    for (auto part : parts)
      if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) return false;
    return EVP_DigestFinal_ex(ctx.get(), out, nullptr) == 1;
  }
};

Result<Secret> sha512(std::initializer_list<std::string_view> parts) {
  Secret out(std::string(kHashBytes, '\0'));
  DigestContext digest;
  if (!digest.sha512(parts, reinterpret_cast<unsigned char*>(out.bytes.data())))
    return crypto_failed("hashing");
  return out;
}

// AES-256-CBC without padding; `plain` is a whole number of blocks; only the first 16 bytes of
// `iv` are used (the spec truncates its hash-derived IVs to the block size).
Result<std::string> aes_cbc(std::string_view key, std::string_view iv, std::string_view plain) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  std::string out(plain.size(), '\0');
  int written = 0;
  int tail = 0;
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  const bool done = ctx && key.size() == kKeyBytes && iv.size() >= kBlockBytes &&
                    plain.size() % kBlockBytes == 0 &&
                    EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr,
                                       reinterpret_cast<const unsigned char*>(key.data()),
                                       reinterpret_cast<const unsigned char*>(iv.data())) == 1 &&
                    EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
                    EVP_EncryptUpdate(ctx.get(), out_bytes, &written,
                                      reinterpret_cast<const unsigned char*>(plain.data()),
                                      static_cast<int>(plain.size())) == 1 &&
                    EVP_EncryptFinal_ex(ctx.get(), out_bytes + written, &tail) == 1 &&
                    static_cast<std::size_t>(written + tail) == plain.size();
  if (!done) return crypto_failed("encrypting");
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// H_final of 2.3.4.11: SHA-512(salt ‖ UTF-16LE(password)), then spinCount rounds of
// SHA-512(LE32(i) ‖ H).
Result<Secret> password_hash(std::string_view salt, const FilePassword& password) {
  Secret utf16;
  utf16.bytes.reserve(2 * FilePassword::kLength);  // no reallocation leaves a copy behind
  for (const char c : password.reveal()) {         // the alphabet is ASCII: one UTF-16 unit each
    utf16.bytes.push_back(c);
    utf16.bytes.push_back('\0');
  }
  Secret hash(std::string(kHashBytes, '\0'));
  auto* h = reinterpret_cast<unsigned char*>(hash.bytes.data());
  DigestContext digest;
  if (!digest.sha512({salt, utf16.bytes}, h)) return crypto_failed("hashing the password");
  for (std::uint32_t i = 0; i < kAgileSpinCount; ++i) {
    const std::string counter = little_endian(i, 4);
    if (!digest.sha512({counter, hash.bytes}, h)) return crypto_failed("hashing the password");
  }
  return hash;
}

// The key for one block key: the first 32 bytes of SHA-512(H_final ‖ blockKey).
Result<Secret> derived_key(const Secret& hash, std::string_view block_key) {
  KBIX_ASSIGN_OR_RETURN(auto full, sha512({hash.bytes, block_key}));
  return Secret(full.bytes.substr(0, kKeyBytes));
}

// 2.3.4.15: "\EncryptedPackage" = LE64(size) ‖ each 4096-byte segment, zero-padded to the block
// size, encrypted with IV = SHA-512(keyData salt ‖ LE32(segment index)).
Result<std::string> encrypted_package(std::string_view package, const Secret& key,
                                      std::string_view key_salt) {
  std::string stream = little_endian(package.size(), 8);
  stream.reserve(8 + package.size() + kBlockBytes);
  Secret segment;
  for (std::size_t offset = 0, index = 0; offset < package.size();
       offset += kAgileSegmentBytes, ++index) {
    segment.bytes.assign(package.substr(offset, kAgileSegmentBytes));
    segment.bytes.resize((segment.bytes.size() + kBlockBytes - 1) / kBlockBytes * kBlockBytes,
                         '\0');
    KBIX_ASSIGN_OR_RETURN(auto iv, sha512({key_salt, little_endian(index, 4)}));
    KBIX_ASSIGN_OR_RETURN(auto encrypted, aes_cbc(key.bytes, iv.bytes, segment.bytes));
    stream += encrypted;
  }
  return stream;
}

std::string cipher_attributes(std::string_view salt) {
  return "saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" "
         "cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" saltValue=\"" +
         base64(salt) + "\"";
}

// --- The \x06DataSpaces storage (MS-OFFCRYPTO 2.1.5–2.1.9, 2.2): fixed content. ---

// UNICODE-LP-P4: LE32 byte length, UTF-16LE characters (ASCII here), padded to 4 bytes.
std::string unicode_lp_p4(std::string_view ascii) {
  std::string out = little_endian(ascii.size() * 2, 4);
  for (const char c : ascii) out += std::string{c, '\0'};
  out.resize((out.size() + 3) / 4 * 4, '\0');
  return out;
}

std::string version_1_0_three_times() {
  std::string one = little_endian(1, 2) + little_endian(0, 2);
  return one + one + one;  // reader, updater, writer
}

std::vector<internal::CompoundStream> data_spaces() {
  const std::string version =
      unicode_lp_p4("Microsoft.Container.DataSpaces") + version_1_0_three_times();
  std::string entry = little_endian(1, 4) + little_endian(0, 4) +  // 1 component, a stream
                      unicode_lp_p4("EncryptedPackage") +
                      unicode_lp_p4("StrongEncryptionDataSpace");
  entry = little_endian(entry.size() + 4, 4) + entry;
  const std::string map = little_endian(8, 4) + little_endian(1, 4) + entry;
  const std::string definition =
      little_endian(8, 4) + little_endian(1, 4) + unicode_lp_p4("StrongEncryptionTransform");
  std::string header =
      little_endian(1, 4) + unicode_lp_p4("{FF9A3F03-56EF-4613-BDD5-5A41C1D07246}");
  header = little_endian(header.size() + 4, 4) + header;  // TransformLength covers itself
  const std::string primary = header + unicode_lp_p4("Microsoft.Container.EncryptionTransform") +
                              version_1_0_three_times() +
                              little_endian(0, 4) +  // EncryptionName: empty
                              little_endian(0, 4) +  // EncryptionBlockSize (as Excel writes it)
                              little_endian(0, 4) +  // CipherMode
                              little_endian(4, 4);   // Reserved
  const std::string root =
      "\x06"
      "DataSpaces/";
  return {{root + "Version", version},
          {root + "DataSpaceMap", map},
          {root + "DataSpaceInfo/StrongEncryptionDataSpace", definition},
          {root + "TransformInfo/StrongEncryptionTransform/\x06Primary", primary}};
}

}  // namespace

Result<std::string> encrypt_agile(std::string_view package, const FilePassword& password) {
  if (package.empty()) return fail("office.package_empty", "agile encryption: nothing to encrypt");
  auto key_salt = random_bytes(kSaltBytes);
  auto password_salt = random_bytes(kSaltBytes);
  auto secret_key = random_bytes(kKeyBytes);
  auto verifier_input = random_bytes(kSaltBytes);
  auto hmac_key = random_bytes(kHashBytes);  // Excel uses the hash size, not the salt size
  for (auto* drawn : {&key_salt, &password_salt, &secret_key, &verifier_input, &hmac_key})
    if (!*drawn) return fail(drawn->error());
  const std::string& salt = password_salt->bytes;
  const std::string& data_salt = key_salt->bytes;

  // The password key encryptor (2.3.4.13): verifier and encrypted intermediate key.
  KBIX_ASSIGN_OR_RETURN(auto hash, password_hash(salt, password));
  auto input_key = derived_key(hash, kVerifierInputBlock);
  auto value_key = derived_key(hash, kVerifierValueBlock);
  auto key_key = derived_key(hash, kEncryptedKeyBlock);
  auto verifier_hash = sha512({verifier_input->bytes});
  for (auto* derived : {&input_key, &value_key, &key_key, &verifier_hash})
    if (!*derived) return fail(derived->error());
  auto encrypted_verifier_input = aes_cbc(input_key->bytes, salt, verifier_input->bytes);
  auto encrypted_verifier_hash = aes_cbc(value_key->bytes, salt, verifier_hash->bytes);
  auto encrypted_key = aes_cbc(key_key->bytes, salt, secret_key->bytes);

  // The package and its integrity (2.3.4.14): HMAC-SHA-512 over the whole stream.
  KBIX_ASSIGN_OR_RETURN(auto stream, encrypted_package(package, *secret_key, data_salt));
  Secret hmac(std::string(kHashBytes, '\0'));
  unsigned int hmac_length = 0;
  if (HMAC(EVP_sha512(), hmac_key->bytes.data(), static_cast<int>(hmac_key->bytes.size()),
           reinterpret_cast<const unsigned char*>(stream.data()), stream.size(),
           reinterpret_cast<unsigned char*>(hmac.bytes.data()), &hmac_length) == nullptr ||
      hmac_length != kHashBytes)
    return crypto_failed("computing the integrity HMAC");
  auto hmac_key_iv = sha512({data_salt, kHmacKeyBlock});
  auto hmac_value_iv = sha512({data_salt, kHmacValueBlock});
  if (!hmac_key_iv || !hmac_value_iv) return crypto_failed("hashing");
  auto encrypted_hmac_key = aes_cbc(secret_key->bytes, hmac_key_iv->bytes, hmac_key->bytes);
  auto encrypted_hmac_value = aes_cbc(secret_key->bytes, hmac_value_iv->bytes, hmac.bytes);
  for (auto* encrypted : {&encrypted_verifier_input, &encrypted_verifier_hash, &encrypted_key,
                          &encrypted_hmac_key, &encrypted_hmac_value})
    if (!*encrypted) return fail(encrypted->error());

  // 2.3.4.10: EncryptionInfo = version 4.4, reserved 0x40, the XML descriptor.
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
      "<encryption xmlns=\"http://schemas.microsoft.com/office/2006/encryption\" "
      "xmlns:p=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\" "
      "xmlns:c=\"http://schemas.microsoft.com/office/2006/keyEncryptor/certificate\">"
      "<keyData " +
      cipher_attributes(data_salt) +
      "/>"
      "<dataIntegrity encryptedHmacKey=\"" +
      base64(*encrypted_hmac_key) + "\" encryptedHmacValue=\"" + base64(*encrypted_hmac_value) +
      "\"/>"
      "<keyEncryptors><keyEncryptor "
      "uri=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\">"
      "<p:encryptedKey spinCount=\"" +
      std::to_string(kAgileSpinCount) + "\" " + cipher_attributes(salt) +
      " encryptedVerifierHashInput=\"" + base64(*encrypted_verifier_input) +
      "\" encryptedVerifierHashValue=\"" + base64(*encrypted_verifier_hash) +
      "\" encryptedKeyValue=\"" + base64(*encrypted_key) +
      "\"/>"
      "</keyEncryptor></keyEncryptors></encryption>";
  const std::string info = little_endian(4, 2) + little_endian(4, 2) + little_endian(0x40, 4) + xml;

  auto streams = data_spaces();
  streams.push_back({"EncryptionInfo", info});
  streams.push_back({"EncryptedPackage", std::move(stream)});
  return internal::write_compound_file(streams);
}

}  // namespace kbix::office
