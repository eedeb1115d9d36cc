// Audit verification (`kbix audit verify`) and display (`kbix audit show`).
//
// Recomputes every hash, checks that each line is exactly the canonical form, that seq counts up
// by one and prev links to the previous hash (across rotated files), that each checkpoint's
// signature verifies against the pinned certificate and that the log still holds the entry each
// checkpoint names (so a cut-off tail is found). Reports the first problem with file and line.
// The checkpoints must form their own chain (audit.checkpoint_chain), exist once the log has
// entries (audit.checkpoints_missing) and reach within checkpoint_every entries of the log's end
// (audit.checkpoints_truncated). With a copy kept elsewhere (against_file, against_journal) a
// consistent cut of the log and its checkpoint file is found and the first missing entry named.
// Codes: audit.malformed, audit.not_canonical, audit.hash_mismatch, audit.sequence_gap,
// audit.prev_mismatch, audit.torn_tail, audit.truncated, audit.checkpoint_mismatch,
// audit.bad_checkpoint_signature, audit.checkpoint_chain, audit.checkpoints_missing,
// audit.checkpoints_truncated, audit.no_copy, audit.no_log.
// Does NOT guarantee: without a copy, a cut of the last < checkpoint_every entries together with
// the checkpoints after it; with one, anything after the last checkpoint the copy received; an
// attacker with the signing key can rewrite everything (docs/audit-log.md).
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
  // Rollover: earlier checkpoint signers (AgII's previous signing certificates); a checkpoint
  // verifies when it verifies with `certificate` or one of these.
  std::vector<std::filesystem::path> previous_certificates;
  std::uint64_t checkpoint_every = 100;                    // as configured for the writer
  std::optional<std::filesystem::path> against_file;       // a copy of the checkpoints elsewhere
  bool against_journal = false;                            // the copy in the system journal
  std::optional<std::filesystem::path> journal_directory;  // journal files (default: local)
};

struct AuditVerifyReport {
  bool ok = false;
  std::uint64_t entries = 0;
  std::uint64_t checkpoints = 0;
  std::string first_problem;
  std::string error_code;
  std::uint64_t bad_line = 0;
  std::string bad_file;
  std::uint64_t first_missing_seq = 0;  // with a copy: the first entry the log lost (0: none)
  std::uint64_t copy_checkpoints = 0;   // checkpoints found in the copy
};

AuditVerifyReport verify_audit(const AuditVerifyOptions& options);

// One readable line per entry, optionally only one run's.
std::string format_entries(const AuditVerifyOptions& options,
                           const std::optional<std::string>& run_id_filter);

// The log files of a directory in chain order (rotated files first).
std::vector<std::filesystem::path> audit_log_files(const std::filesystem::path& directory);

}  // namespace kbix
