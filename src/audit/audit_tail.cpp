#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "internal/audit_internal.hpp"
#include "kbix/audit/audit_verify.hpp"
#include "kbix/core/file_safety.hpp"

namespace kbix::detail {

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Result<AuditTail> parse_last_line(const std::string& text, const fs::path& file) {
  AuditTail tail;
  if (text.empty()) return tail;
  const std::size_t end = text.size() - 1;  // the final '\n'
  const std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  const std::string line = text.substr(start == std::string::npos ? 0 : start + 1,
                                       end - (start == std::string::npos ? 0 : start + 1));
  const auto entry = nlohmann::json::parse(line, nullptr, false);
  if (entry.is_discarded() || !entry.is_object() || !entry.contains("seq") ||
      !entry["seq"].is_number_unsigned() || !entry.contains("hash") || !entry["hash"].is_string()) {
    return fail("audit.malformed", file.string() +
                                       ": the last entry cannot be read; run `kbix audit verify` "
                                       "and repair the log before starting");
  }
  tail.last_seq = entry["seq"];
  tail.last_hash = entry["hash"];
  return tail;
}

}  // namespace

Result<AuditTail> recover_tail(const fs::path& log_file) {
  if (!fs::exists(log_file)) return AuditTail{};
  std::string text = read_all(log_file);
  std::string torn_name;
  std::uint64_t torn_bytes = 0;
  if (!text.empty() && text.back() != '\n') {
    const std::size_t cut = text.rfind('\n');
    const std::size_t keep = cut == std::string::npos ? 0 : cut + 1;
    torn_bytes = text.size() - keep;
    torn_name = log_file.filename().string() + ".torn-" + audit_time_now();
    KBIX_TRY(write_file_atomically(log_file.parent_path() / torn_name, text.substr(keep)));
    std::error_code error;
    fs::resize_file(log_file, keep, error);
    if (error) return fail("audit.io", "cannot cut the torn line off " + log_file.string());
    text.resize(keep);
  }
  auto tail = parse_last_line(text, log_file);
  if (!tail) return tail;
  tail->torn_file = torn_name;
  tail->torn_bytes = torn_bytes;
  return tail;
}

Result<AuditTail> last_rotated_tail(const fs::path& directory) {
  const auto files = audit_log_files(directory);
  for (auto file = files.rbegin(); file != files.rend(); ++file) {
    if (file->filename() == "audit.jsonl") continue;
    return parse_last_line(read_all(*file), *file);
  }
  return AuditTail{};
}

namespace {
struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using DigestCtx = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

bool is_rsa(const EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
}

bool set_pss(EVP_PKEY_CTX* ctx) {
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0;
}
}  // namespace

Result<Signature> sign_checkpoint(const PrivateKey& key, const std::string& message) {
  DigestCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const bool rsa = is_rsa(key.native());
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.native()) != 1 ||
      (rsa && !set_pss(pctx))) {
    return fail("audit.sign", "cannot sign an audit checkpoint with the signing key");
  }
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, message.size()) != 1) {
    return fail("audit.sign", "cannot sign an audit checkpoint");
  }
  std::string raw(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(raw.data()), &length, data,
                     message.size()) != 1) {
    return fail("audit.sign", "cannot sign an audit checkpoint");
  }
  raw.resize(length);
  std::string base64(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                      reinterpret_cast<const unsigned char*>(raw.data()),
                                      static_cast<int>(raw.size()));
  base64.resize(static_cast<std::size_t>(written));
  return Signature{rsa ? "rsa-pss-sha256" : "ecdsa-sha256", base64};
}

bool verify_checkpoint_signature(const Certificate& certificate, const std::string& algorithm,
                                 const std::string& message, const std::string& base64) {
  if (base64.empty() || base64.size() % 4 != 0 || base64.size() > 8192) return false;
  std::string raw(base64.size() / 4 * 3, '\0');
  const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                      reinterpret_cast<const unsigned char*>(base64.data()),
                                      static_cast<int>(base64.size()));
  if (decoded < 0) return false;
  std::size_t length = static_cast<std::size_t>(decoded);
  if (base64.ends_with("==")) {
    length -= 2;
  } else if (base64.ends_with("=")) {
    length -= 1;
  }
  raw.resize(length);
  EVP_PKEY* key = X509_get0_pubkey(certificate.native());
  if (key == nullptr) return false;
  const bool rsa = is_rsa(key);
  if (algorithm != (rsa ? "rsa-pss-sha256" : "ecdsa-sha256")) return false;
  DigestCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1 ||
      (rsa && !set_pss(pctx))) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace kbix::detail
