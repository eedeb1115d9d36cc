// RunStore: the durable state of every exchange run, in SQLite (invariant 8).
//
// One file, <state_dir>/runs.sqlite3, in WAL mode with synchronous=FULL: a transition returns only
// after it is on disk, so a step's side effect is acknowledged only after its state is durable.
// Transitions are compare-and-set (advance from an expected state), so a run cancelled by an
// operator while a step was under way is not moved on by that step. Facts (remote names, sizes,
// SHA-256s, counts) accumulate in a JSON object per run. Each RunStore is one connection: use one
// per thread. The schema is versioned (PRAGMA user_version).
// Operator actions wait in their own table between audit entry and effect (see OperatorAction).
// Errors: run.db_locked (another process holds the database beyond the busy timeout),
// run.db_error, run.exists, run.unknown, run.state_changed, run.not_retryable.
// Does NOT guarantee: protection against someone editing the database by hand (the audit log is
// the tamper-evident record).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/runs/run_state.hpp"

namespace kbix {

struct RunProgress {
  std::string step;
  std::uint64_t done = 0;
  std::uint64_t total = 0;
};

struct RunRecord {
  std::string id;
  std::string exchange;  // the exchange the run belongs to (config: ExchangeSettings::name)
  RunState state = RunState::planned;
  std::string state_since_utc;
  std::string created_at_utc;
  std::string trigger;  // "schedule" | "operator"
  std::string actor;
  std::optional<std::uint32_t> actor_uid;
  bool forced = false;
  std::string force_reason;
  RunState failed_in = RunState::planned;
  std::string failure_code;
  std::string failure_message;
  bool retryable = false;
  bool overdue = false;
  std::string cancel_reason;
  nlohmann::json facts = nlohmann::json::object();
  RunProgress progress;
};

// An operator action (start, cancel, retry) between its audit entry and its effect (inv. 12):
// recorded before the audit entry is written, marked audited after, and removed in the same
// transaction as the state change it makes. What start-up finds here never took effect.
struct OperatorAction {
  std::string id;      // random, also in the audit entry
  std::string run_id;  // may be empty
  std::string action;  // the audit event, e.g. "run.cancel"
  bool audited = false;
  nlohmann::json details = nlohmann::json::object();
};

class RunStore {
 public:
  static Result<RunStore> open(const std::filesystem::path& database_file,
                               std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));
  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;
  ~RunStore();

  Result<RunRecord> create(const RunRecord& initial);
  Status advance(std::string_view id, RunState from, RunState to,
                 const nlohmann::json& facts = nlohmann::json::object());
  Status merge_facts(std::string_view id, const nlohmann::json& facts);
  Status fail(std::string_view id, std::string_view code, std::string_view message, bool retryable);
  Status retry(std::string_view id);
  Status cancel(std::string_view id, std::string_view reason);
  Status set_overdue(std::string_view id, bool overdue);
  Status set_progress(std::string_view id, const RunProgress& progress);

  Status begin_action(const OperatorAction& action);
  Status mark_action_audited(std::string_view action_id);
  Status drop_action(std::string_view action_id);
  Result<std::vector<OperatorAction>> pending_actions() const;
  // Runs `change` (create, cancel or retry) and removes the action in one transaction.
  Status complete_action(std::string_view action_id, const std::function<Status()>& change);

  Result<std::optional<RunRecord>> find(std::string_view id) const;
  // Runs of `exchange` ("" = of every exchange).
  Result<std::vector<RunRecord>> list(std::string_view exchange = {}) const;        // newest first
  Result<std::vector<RunRecord>> unfinished(std::string_view exchange = {}) const;  // oldest first
  // created_at of the exchange's newest run that reached 'uploaded' (the cadence counts runs that
  // sent data).
  Result<std::optional<std::string>> last_started_run_time(std::string_view exchange = {}) const;
  // Runs made before runs had an exchange (schema version 1) belong to the exchange of their
  // protocol: gives them `exchange`; returns how many.
  Result<std::uint64_t> claim_unassigned(std::string_view exchange, std::string_view protocol_id);
  // Invariant 13: records that run `run_id` accepted the return with this SHA-256 (durable on
  // return). Returns the id of ANOTHER run that accepted the same file before (a replay; nothing
  // recorded), or nullopt (recorded now, or earlier by this same run).
  Result<std::optional<std::string>> remember_accepted_return(std::string_view run_id,
                                                              std::string_view sha256);
  // Retention: deletes the exchange's ("" = every exchange's) finished runs created before
  // `cutoff_utc` (and the SHA-256s of the returns they accepted); returns their ids.
  Result<std::vector<std::string>> purge_finished_before(std::string_view cutoff_utc,
                                                         std::string_view exchange = {});

  struct Connection;

 private:
  explicit RunStore(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> db_;
};

}  // namespace kbix
