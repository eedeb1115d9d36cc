// Internal pieces of the audit module shared by the writer and the verifier.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "kbix/core/result.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix::detail {

std::string audit_time_now();  // "2026-11-22T13:55:00.123Z"
Status check_details(const nlohmann::json& value, const std::string& path);

struct AuditTail {
  std::uint64_t last_seq = 0;
  std::string last_hash;
  std::string torn_file;  // where a torn final line was moved, if any
  std::uint64_t torn_bytes = 0;
};
// Reads the end of a log file; moves a torn final line aside (see audit.hpp).
Result<AuditTail> recover_tail(const std::filesystem::path& log_file);
Result<AuditTail> last_rotated_tail(const std::filesystem::path& directory);

struct Signature {
  std::string algorithm;  // "rsa-pss-sha256" or "ecdsa-sha256"
  std::string base64;
};
Result<Signature> sign_checkpoint(const PrivateKey& key, const std::string& message);
bool verify_checkpoint_signature(const Certificate& certificate, const std::string& algorithm,
                                 const std::string& message, const std::string& base64);

}  // namespace kbix::detail
