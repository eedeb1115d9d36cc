// Internal pieces of the audit module shared by the writer and the verifier.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "kbix/core/result.hpp"

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

}  // namespace kbix::detail
