#include "internal/checkpoint.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <systemd/sd-journal.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "kbix/audit/audit.hpp"
#include "kbix/core/digest.hpp"

namespace kbix::detail {

namespace fs = std::filesystem;

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

std::optional<Checkpoint> parse_checkpoint(std::string_view line) {
  const auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  const auto text = [&](const char* key) -> const nlohmann::json* {
    const auto found = json.find(key);
    return found != json.end() && found->is_string() ? &*found : nullptr;
  };
  const auto seq = json.find("seq");
  if (seq == json.end() || !seq->is_number_unsigned() || !text("head") || !text("time") ||
      !text("signature") || !text("algorithm")) {
    return std::nullopt;
  }
  Checkpoint checkpoint;
  checkpoint.seq = seq->get<std::uint64_t>();
  checkpoint.head = json["head"];
  checkpoint.time = json["time"];
  checkpoint.algorithm = json["algorithm"];
  checkpoint.signature = json["signature"];
  if (json.contains("prev_checkpoint")) {
    if (!text("prev_checkpoint")) return std::nullopt;
    checkpoint.prev_checkpoint = json["prev_checkpoint"].get<std::string>();
  }
  checkpoint.line = std::string(line);
  return checkpoint;
}

std::string checkpoint_line_hash(std::string_view line) {
  return sha256_hex(line);
}

bool checkpoint_signature_ok(const Certificate& certificate, const Checkpoint& checkpoint) {
  return verify_checkpoint_signature(
      certificate, checkpoint.algorithm,
      audit_checkpoint_message(checkpoint.seq, checkpoint.head, checkpoint.time,
                               checkpoint.prev_checkpoint.value_or("")),
      checkpoint.signature);
}

std::optional<std::vector<std::string>> read_checkpoint_lines(const fs::path& file) {
  std::error_code error;
  if (!fs::exists(file, error)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

bool send_checkpoint_to_journal(const std::string& line, const fs::path& audit_dir,
                                std::uint64_t seq) {
  return sd_journal_send("MESSAGE=kbix audit checkpoint at entry %llu",
                         static_cast<unsigned long long>(seq), "PRIORITY=6",
                         "SYSLOG_IDENTIFIER=kbix", "KBIX_CHECKPOINT=%s", line.c_str(),
                         "KBIX_AUDIT_DIR=%s", audit_dir.c_str(), nullptr) >= 0;
}

Result<std::vector<std::string>> journal_checkpoint_lines(
    const fs::path& audit_dir, const std::optional<fs::path>& journal_directory) {
  sd_journal* journal = nullptr;
  const int opened = journal_directory
                         ? sd_journal_open_directory(&journal, journal_directory->c_str(), 0)
                         : sd_journal_open(&journal, SD_JOURNAL_LOCAL_ONLY);
  if (opened < 0) return fail("audit.no_copy", "cannot open the system journal");
  std::unique_ptr<sd_journal, decltype(&sd_journal_close)> owned(journal, sd_journal_close);
  const std::string match = "KBIX_AUDIT_DIR=" + audit_dir.string();
  if (sd_journal_add_match(journal, match.data(), match.size()) < 0) {
    return fail("audit.no_copy", "cannot search the system journal");
  }
  std::vector<std::string> lines;
  constexpr std::string_view kField = "KBIX_CHECKPOINT=";
  SD_JOURNAL_FOREACH(journal) {
    const void* data = nullptr;
    std::size_t length = 0;
    if (sd_journal_get_data(journal, "KBIX_CHECKPOINT", &data, &length) < 0) continue;
    std::string_view field(static_cast<const char*>(data), length);
    if (field.starts_with(kField)) lines.emplace_back(field.substr(kField.size()));
  }
  return lines;
}

}  // namespace kbix::detail
