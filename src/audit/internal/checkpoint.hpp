// Signed audit checkpoints (internal to the audit module; format in docs/audit-log.md).
//
// A checkpoint is one JSON line {seq, head, time, reason, algorithm, signer_sha256, signature,
// prev_checkpoint}: a signature over (seq, head, time, prev_checkpoint) with the AgII signing key.
// prev_checkpoint is the SHA-256 hex of the previous checkpoint line's bytes (64 zeros for the
// first), so the checkpoints form a chain of their own: a deleted, edited or reordered checkpoint
// breaks it. Lines written before the chain existed have no prev_checkpoint (legacy) and may
// only come first. Each checkpoint is also sent to copies outside the state directory (a file,
// the system journal) so that a consistent cut of the log and its checkpoint file is found.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/envelope/keys.hpp"

namespace kbix::detail {

struct Signature {
  std::string algorithm;  // "rsa-pss-sha256" or "ecdsa-sha256"
  std::string base64;
};
Result<Signature> sign_checkpoint(const PrivateKey& key, const std::string& message);
bool verify_checkpoint_signature(const Certificate& certificate, const std::string& algorithm,
                                 const std::string& message, const std::string& base64);

struct Checkpoint {
  std::uint64_t seq = 0;
  std::string head;
  std::string time;
  std::string algorithm;
  std::string signature;
  std::optional<std::string> prev_checkpoint;  // absent in legacy lines
  std::string line;                            // the exact line, without its '\n'
};

inline const std::string kNoCheckpoint(64, '0');

// nullopt when `line` is not a checkpoint.
std::optional<Checkpoint> parse_checkpoint(std::string_view line);
// The hash the next checkpoint names as prev_checkpoint.
std::string checkpoint_line_hash(std::string_view line);
// Whether the checkpoint's signature verifies with the pinned certificate.
bool checkpoint_signature_ok(const Certificate& certificate, const Checkpoint& checkpoint);

// The lines of a checkpoint file (nullopt when it does not exist). Never throws.
std::optional<std::vector<std::string>> read_checkpoint_lines(const std::filesystem::path& file);

// Sends one checkpoint line to the system journal (MESSAGE, KBIX_CHECKPOINT=<line>,
// KBIX_AUDIT_DIR=<audit directory>). Best effort: false when there is no journal.
bool send_checkpoint_to_journal(const std::string& line, const std::filesystem::path& audit_dir,
                                std::uint64_t seq);
// The KBIX_CHECKPOINT lines the journal holds for `audit_dir`, oldest first; from the local
// journal, or from the journal files in `journal_directory`. Error: audit.no_copy.
Result<std::vector<std::string>> journal_checkpoint_lines(
    const std::filesystem::path& audit_dir,
    const std::optional<std::filesystem::path>& journal_directory);

}  // namespace kbix::detail
