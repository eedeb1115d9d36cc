// AuditLog: the append-only, hash-chained record of everything kbix does (invariant 9).
//
// Format (docs/audit-log.md): JSON Lines in <state_dir>/audit/audit.jsonl. Each line is one entry
// {seq, time, run_id, actor{name,uid}, event, details, prev, hash}, written as the canonical
// serialisation (nlohmann compact dump: keys sorted by byte, no whitespace, UTF-8 as is), where
// hash = SHA-256 hex of the canonical serialisation of the entry WITHOUT "hash", and prev = the
// previous entry's hash (64 zeros for the first). The file is opened O_APPEND and each entry is
// fsynced before append() returns, so an action is acknowledged only after it is recorded.
// Rotation renames audit.jsonl to audit-<first seq, 12 digits>.jsonl; the chain continues.
// Checkpoints {seq, head, time, reason, algorithm, signer_sha256, signature, prev_checkpoint} go
// to checkpoints.jsonl, signed with the AgII signing key: at open, every `checkpoint_every`
// entries and at close. They form a chain (prev_checkpoint = SHA-256 of the previous checkpoint
// line), and each is also written to `checkpoint_copy` and the system journal, outside the state
// directory (invariant 9). open() refuses to write on (audit.truncated, audit.checkpoints_missing,
// audit.checkpoint_mismatch) when the log is shorter than its last checkpoint, differs from it,
// or has entries but no checkpoint file.
//
// Privacy guard (invariant 5): details may not hold floats (not canonical) nor any string with an
// INSZ-like number (audit.personal_value): a last line of defence, not the only one.
// A torn final line (a crash mid-write) found at open is moved aside to
// audit.jsonl.torn-<time> and recorded as an "audit.torn_tail" entry; nothing is dropped silently.
// Thread-safe (one mutex); one writer process per directory (the Instance lock guarantees it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "kbix/audit/audit_settings.hpp"
#include "kbix/core/result.hpp"

namespace kbix {

struct AuditActor {
  std::string name;
  std::optional<std::uint32_t> uid;
};

AuditActor scheduler_actor();  // {"scheduler", no uid}

struct AuditEvent {
  std::string run_id;  // may be empty
  AuditActor actor;
  std::string event;  // "daemon.start", "run.upload", ...
  nlohmann::json details = nlohmann::json::object();
  std::string exchange{};  // the exchange the entry is about; empty (and not written) for none
};

class AuditLog {
 public:
  static Result<AuditLog> open(const AuditSettings& settings);
  AuditLog(AuditLog&&) noexcept;
  AuditLog& operator=(AuditLog&&) noexcept;
  ~AuditLog();

  Status append(const AuditEvent& event);
  Status checkpoint(std::string_view reason);
  Status close();
  std::uint64_t next_sequence() const;
  std::string head_hash() const;

  struct State;

 private:
  explicit AuditLog(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The canonical serialisation of an entry (see above) and its hash.
std::string audit_canonical(const nlohmann::json& entry_without_hash);
std::string audit_entry_hash(const nlohmann::json& entry_without_hash);
// The exact bytes a checkpoint signature covers: "kbix-audit-checkpoint\nseq=S\nhead=H\ntime=T\n",
// then "prev=P\n" when the checkpoint names its predecessor (every checkpoint kbix writes now).
std::string audit_checkpoint_message(std::uint64_t seq, std::string_view head,
                                     std::string_view time, std::string_view prev = {});

}  // namespace kbix
