// Audit verification (`kbix audit verify`) and display (`kbix audit show`).
//
// Recomputes every hash, checks that each line is exactly the canonical form, that seq counts up
// by one and prev links to the previous hash (across rotated files), that each checkpoint's
// signature verifies against the pinned certificate and that the log still holds the entry each
// checkpoint names (so a cut-off tail is found). Reports the first problem with file and line.
// Codes: audit.malformed, audit.not_canonical, audit.hash_mismatch, audit.sequence_gap,
// audit.prev_mismatch, audit.torn_tail, audit.truncated, audit.checkpoint_mismatch,
// audit.bad_checkpoint_signature, audit.no_log.
// Does NOT guarantee: anything beyond the last checkpoint shipped elsewhere (an attacker with the
// signing key and the files can rewrite both; ship checkpoints off the machine).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kbix {

struct AuditVerifyOptions {
  std::filesystem::path directory;                       // used when log_files is empty
  std::vector<std::filesystem::path> log_files;          // in chain order
  std::optional<std::filesystem::path> checkpoint_file;  // default: directory/checkpoints.jsonl
  std::optional<std::filesystem::path> certificate;      // pinned checkpoint signer
};

struct AuditVerifyReport {
  bool ok = false;
  std::uint64_t entries = 0;
  std::uint64_t checkpoints = 0;
  std::string first_problem;
  std::string error_code;
  std::uint64_t bad_line = 0;
  std::string bad_file;
};

AuditVerifyReport verify_audit(const AuditVerifyOptions& options);

// One readable line per entry, optionally only one run's.
std::string format_entries(const AuditVerifyOptions& options,
                           const std::optional<std::string>& run_id_filter);

// The log files of a directory in chain order (rotated files first).
std::vector<std::filesystem::path> audit_log_files(const std::filesystem::path& directory);

}  // namespace kbix
