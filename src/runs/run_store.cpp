#include "kbix/runs/run_store.hpp"

#include <sqlite3.h>

#include <ctime>

#include "kbix/core/untrusted_text.hpp"
#include "kbix/core/utc_time.hpp"

namespace kbix {

namespace {

std::string now_utc() {
  return utc_timestamp(std::chrono::system_clock::now());
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  state_since TEXT NOT NULL,
  created_at TEXT NOT NULL,
  trigger TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_uid INTEGER,
  forced INTEGER NOT NULL DEFAULT 0,
  force_reason TEXT NOT NULL DEFAULT '',
  failed_in TEXT NOT NULL DEFAULT 'planned',
  failure_code TEXT NOT NULL DEFAULT '',
  failure_message TEXT NOT NULL DEFAULT '',
  retryable INTEGER NOT NULL DEFAULT 0,
  overdue INTEGER NOT NULL DEFAULT 0,
  cancel_reason TEXT NOT NULL DEFAULT '',
  facts TEXT NOT NULL DEFAULT '{}',
  progress_step TEXT NOT NULL DEFAULT '',
  progress_done INTEGER NOT NULL DEFAULT 0,
  progress_total INTEGER NOT NULL DEFAULT 0,
  reached_upload INTEGER NOT NULL DEFAULT 0,
  exchange TEXT NOT NULL DEFAULT ''
);
-- Invariant 13: the SHA-256 of every return accepted in any run; a return seen before is a
-- replay. Kept as long as its run (the retention purge deletes both).
CREATE TABLE IF NOT EXISTS accepted_returns (
  sha256 TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  accepted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_actions (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  action TEXT NOT NULL,
  audited INTEGER NOT NULL DEFAULT 0,
  details TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
);
)";

// Version 2 added runs.exchange (several exchanges in one daemon); a version-1 database gets the
// column, empty, and the exchange of its protocol claims those runs (claim_unassigned).
constexpr int kSchemaVersion = 2;

constexpr const char* kColumns =
    "id, state, state_since, created_at, trigger, actor, actor_uid, forced, force_reason, "
    "failed_in, failure_code, failure_message, retryable, overdue, cancel_reason, facts, "
    "progress_step, progress_done, progress_total, exchange";

}  // namespace

struct RunStore::Connection {
  sqlite3* db = nullptr;
  std::string file;
  ~Connection() {
    if (db != nullptr) sqlite3_close_v2(db);
  }

  Unexpected<Error> error(const std::string& what) const {
    const int code = sqlite3_errcode(db);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return kbix::fail("run.db_locked",
                        file + ": the run database is locked by another process (" + what + ")");
    }
    return kbix::fail("run.db_error", file + ": " + what + ": " + sqlite3_errmsg(db));
  }

  Status exec(const char* sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      sqlite3_free(message);
      return error(sql);
    }
    return ok();
  }
};

namespace {

// A prepared statement with positional binding.
class Statement {
 public:
  Statement(const RunStore::Connection& connection, const char* sql) {
    if (sqlite3_prepare_v2(connection.db, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      statement_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return statement_ != nullptr; }
  Statement& bind(std::string_view text) {
    // An empty view may have no data(): bound as NULL it would compare unequal to ''.
    sqlite3_bind_text(statement_, ++index_, text.empty() ? "" : text.data(),
                      static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(std::int64_t number) {
    sqlite3_bind_int64(statement_, ++index_, number);
    return *this;
  }
  Statement& bind_null() {
    sqlite3_bind_null(statement_, ++index_);
    return *this;
  }
  int step() { return sqlite3_step(statement_); }
  std::string text(int column) const {
    const auto* value = sqlite3_column_text(statement_, column);
    return value == nullptr ? std::string() : reinterpret_cast<const char*>(value);
  }
  std::int64_t number(int column) const { return sqlite3_column_int64(statement_, column); }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* statement_ = nullptr;
  int index_ = 0;
};

RunRecord read_record(const Statement& row) {
  RunRecord run;
  run.id = row.text(0);
  run.state = parse_run_state(row.text(1)).value_or(RunState::failed);
  run.state_since_utc = row.text(2);
  run.created_at_utc = row.text(3);
  run.trigger = row.text(4);
  run.actor = row.text(5);
  if (!row.is_null(6)) run.actor_uid = static_cast<std::uint32_t>(row.number(6));
  run.forced = row.number(7) != 0;
  run.force_reason = row.text(8);
  run.failed_in = parse_run_state(row.text(9)).value_or(RunState::planned);
  run.failure_code = row.text(10);
  run.failure_message = row.text(11);
  run.retryable = row.number(12) != 0;
  run.overdue = row.number(13) != 0;
  run.cancel_reason = row.text(14);
  run.facts = nlohmann::json::parse(row.text(15), nullptr, false);
  if (!run.facts.is_object()) run.facts = nlohmann::json::object();
  run.progress = {row.text(16), static_cast<std::uint64_t>(row.number(17)),
                  static_cast<std::uint64_t>(row.number(18))};
  run.exchange = row.text(19);
  return run;
}

}  // namespace

RunStore::RunStore(std::unique_ptr<Connection> connection) : db_(std::move(connection)) {}
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;
RunStore::~RunStore() = default;

Result<RunStore> RunStore::open(const std::filesystem::path& database_file,
                                std::chrono::milliseconds busy_timeout) {
  auto connection = std::make_unique<Connection>();
  connection->file = database_file.string();
  if (sqlite3_open_v2(connection->file.c_str(), &connection->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return connection->error("cannot open");
  }
  sqlite3_busy_timeout(connection->db, static_cast<int>(busy_timeout.count()));
  KBIX_TRY(connection->exec("PRAGMA journal_mode=WAL"));
  KBIX_TRY(connection->exec("PRAGMA synchronous=FULL"));
  KBIX_TRY(connection->exec("PRAGMA foreign_keys=ON"));
  {
    Statement version(*connection, "PRAGMA user_version");
    if (!version.ok() || version.step() != SQLITE_ROW) return connection->error("user_version");
    if (version.number(0) > kSchemaVersion) {
      return kbix::fail("run.db_error", connection->file +
                                            ": made by a newer kbix (schema version " +
                                            std::to_string(version.number(0)) + ")");
    }
  }
  KBIX_TRY(connection->exec(kSchema));
  {
    Statement columns(*connection, "SELECT 1 FROM pragma_table_info('runs') WHERE name='exchange'");
    if (!columns.ok()) return connection->error("table_info");
    const int found = columns.step();
    if (found == SQLITE_DONE) {
      KBIX_TRY(connection->exec("ALTER TABLE runs ADD COLUMN exchange TEXT NOT NULL DEFAULT ''"));
    } else if (found != SQLITE_ROW) {
      return connection->error("table_info");
    }
  }
  KBIX_TRY(connection->exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str()));
  return RunStore(std::move(connection));
}

Result<RunRecord> RunStore::create(const RunRecord& initial) {
  const std::string now = now_utc();
  Statement insert(*db_,
                   "INSERT INTO runs (id, state, state_since, created_at, trigger, actor, "
                   "actor_uid, forced, force_reason, facts, exchange) VALUES "
                   "(?,?,?,?,?,?,?,?,?,?,?)");
  if (!insert.ok()) return db_->error("prepare insert");
  insert.bind(initial.id)
      .bind(to_string(initial.state))
      .bind(now)
      .bind(now)
      .bind(initial.trigger)
      .bind(initial.actor);
  if (initial.actor_uid) {
    insert.bind(static_cast<std::int64_t>(*initial.actor_uid));
  } else {
    insert.bind_null();
  }
  insert.bind(std::int64_t{initial.forced})
      .bind(initial.force_reason)
      .bind(dump_json(initial.facts))
      .bind(initial.exchange);
  const int result = insert.step();
  if (result == SQLITE_CONSTRAINT) return kbix::fail("run.exists", "run " + initial.id + " exists");
  if (result != SQLITE_DONE) return db_->error("insert run");
  auto created = find(initial.id);
  if (!created) return kbix::fail(std::move(created).error());
  return **created;
}

Status RunStore::advance(std::string_view id, RunState from, RunState to,
                         const nlohmann::json& facts) {
  // Inside complete_action (an operator action's change) the transaction is already open: a
  // savepoint then, so the action and the change still commit together.
  const bool nested = sqlite3_get_autocommit(db_->db) == 0;
  KBIX_TRY(db_->exec(nested ? "SAVEPOINT advance" : "BEGIN IMMEDIATE"));
  auto rollback = [&](Unexpected<Error> failure) {
    (void)db_->exec(nested ? "ROLLBACK TO advance; RELEASE advance" : "ROLLBACK");
    return failure;
  };
  auto current = find(id);
  if (!current) return rollback(kbix::fail(std::move(current).error()));
  if (!*current) return rollback(kbix::fail("run.unknown", "no run " + std::string(id)));
  if ((*current)->state != from) {
    return rollback(kbix::fail("run.state_changed", "run " + std::string(id) + " is " +
                                                        std::string(to_string((*current)->state)) +
                                                        ", not " + std::string(to_string(from))));
  }
  nlohmann::json merged = (*current)->facts;
  if (facts.is_object()) merged.update(facts);
  Statement update(*db_,
                   "UPDATE runs SET state=?, state_since=?, facts=?, reached_upload = "
                   "reached_upload OR ? WHERE id=?");
  if (!update.ok()) return rollback(db_->error("prepare advance"));
  update.bind(to_string(to))
      .bind(now_utc())
      .bind(dump_json(merged))
      // What counts for the cadence: the data left (uploaded; an export's list placed).
      .bind(std::int64_t{to == RunState::uploaded || to == RunState::placed})
      .bind(id);
  if (update.step() != SQLITE_DONE) return rollback(db_->error("advance"));
  return db_->exec(nested ? "RELEASE advance" : "COMMIT");
}

Status RunStore::merge_facts(std::string_view id, const nlohmann::json& facts) {
  auto current = find(id);
  if (!current) return kbix::fail(std::move(current).error());
  if (!*current) return kbix::fail("run.unknown", "no run " + std::string(id));
  return advance(id, (*current)->state, (*current)->state, facts);
}

Status RunStore::fail(std::string_view id, std::string_view code, std::string_view message,
                      bool retryable) {
  Statement update(
      *db_,
      "UPDATE runs SET failed_in=state, state='failed', state_since=?, failure_code=?, "
      "failure_message=?, retryable=? WHERE id=? AND state NOT IN "
      "('done','failed','cancelled')");
  if (!update.ok()) return db_->error("prepare fail");
  update.bind(now_utc()).bind(code).bind(message).bind(std::int64_t{retryable}).bind(id);
  if (update.step() != SQLITE_DONE) return db_->error("fail");
  return ok();
}

Status RunStore::retry(std::string_view id) {
  auto current = find(id);
  if (!current) return kbix::fail(std::move(current).error());
  if (!*current) return kbix::fail("run.unknown", "no run " + std::string(id));
  if ((*current)->state != RunState::failed || !(*current)->retryable) {
    return kbix::fail("run.not_retryable",
                      "run " + std::string(id) + " is " +
                          std::string(to_string((*current)->state)) +
                          ((*current)->state == RunState::failed
                               ? " for a reason a retry cannot fix; start a new run"
                               : ", not failed"));
  }
  Statement update(*db_,
                   "UPDATE runs SET state=failed_in, state_since=?, failure_code='', "
                   "failure_message='', retryable=0 WHERE id=? AND state='failed'");
  if (!update.ok()) return db_->error("prepare retry");
  update.bind(now_utc()).bind(id);
  if (update.step() != SQLITE_DONE) return db_->error("retry");
  return ok();
}

Status RunStore::cancel(std::string_view id, std::string_view reason) {
  auto current = find(id);
  if (!current) return kbix::fail(std::move(current).error());
  if (!*current) return kbix::fail("run.unknown", "no run " + std::string(id));
  if ((*current)->state == RunState::done || (*current)->state == RunState::cancelled) {
    return kbix::fail("run.already_finished", "run " + std::string(id) + " is already " +
                                                  std::string(to_string((*current)->state)));
  }
  Statement update(*db_,
                   "UPDATE runs SET state='cancelled', state_since=?, cancel_reason=? WHERE id=?");
  if (!update.ok()) return db_->error("prepare cancel");
  update.bind(now_utc()).bind(reason).bind(id);
  if (update.step() != SQLITE_DONE) return db_->error("cancel");
  return ok();
}

Status RunStore::set_overdue(std::string_view id, bool overdue) {
  Statement update(*db_, "UPDATE runs SET overdue=? WHERE id=?");
  if (!update.ok()) return db_->error("prepare overdue");
  update.bind(std::int64_t{overdue}).bind(id);
  if (update.step() != SQLITE_DONE) return db_->error("overdue");
  return ok();
}

Status RunStore::set_progress(std::string_view id, const RunProgress& progress) {
  Statement update(*db_,
                   "UPDATE runs SET progress_step=?, progress_done=?, progress_total=? WHERE id=?");
  if (!update.ok()) return db_->error("prepare progress");
  update.bind(progress.step)
      .bind(static_cast<std::int64_t>(progress.done))
      .bind(static_cast<std::int64_t>(progress.total))
      .bind(id);
  if (update.step() != SQLITE_DONE) return db_->error("progress");
  return ok();
}

Status RunStore::begin_action(const OperatorAction& action) {
  Statement insert(*db_,
                   "INSERT INTO operator_actions (id, run_id, action, audited, details, "
                   "created_at) VALUES (?,?,?,0,?,?)");
  if (!insert.ok()) return db_->error("prepare action");
  insert.bind(action.id)
      .bind(action.run_id)
      .bind(action.action)
      .bind(action.details.dump())
      .bind(now_utc());
  if (insert.step() != SQLITE_DONE) return db_->error("record action");
  return ok();
}

Status RunStore::mark_action_audited(std::string_view action_id) {
  Statement update(*db_, "UPDATE operator_actions SET audited=1 WHERE id=?");
  if (!update.ok()) return db_->error("prepare action");
  update.bind(action_id);
  if (update.step() != SQLITE_DONE) return db_->error("mark action");
  return ok();
}

Status RunStore::drop_action(std::string_view action_id) {
  Statement remove(*db_, "DELETE FROM operator_actions WHERE id=?");
  if (!remove.ok()) return db_->error("prepare action");
  remove.bind(action_id);
  if (remove.step() != SQLITE_DONE) return db_->error("drop action");
  return ok();
}

Result<std::vector<OperatorAction>> RunStore::pending_actions() const {
  Statement select(*db_,
                   "SELECT id, run_id, action, audited, details FROM operator_actions ORDER BY "
                   "created_at, id");
  if (!select.ok()) return db_->error("prepare actions");
  std::vector<OperatorAction> actions;
  for (int result = select.step(); result != SQLITE_DONE; result = select.step()) {
    if (result != SQLITE_ROW) return db_->error("actions");
    OperatorAction action{select.text(0), select.text(1), select.text(2), select.number(3) != 0,
                          nlohmann::json::parse(select.text(4), nullptr, false)};
    if (!action.details.is_object()) action.details = nlohmann::json::object();
    actions.push_back(std::move(action));
  }
  return actions;
}

Status RunStore::complete_action(std::string_view action_id,
                                 const std::function<Status()>& change) {
  KBIX_TRY(db_->exec("BEGIN IMMEDIATE"));
  auto changed = change();
  if (changed) changed = drop_action(action_id);
  if (!changed) {
    (void)db_->exec("ROLLBACK");
    return changed;
  }
  return db_->exec("COMMIT");
}

Result<std::optional<RunRecord>> RunStore::find(std::string_view id) const {
  const std::string sql = std::string("SELECT ") + kColumns + " FROM runs WHERE id=?";
  Statement select(*db_, sql.c_str());
  if (!select.ok()) return db_->error("prepare find");
  select.bind(id);
  const int result = select.step();
  if (result == SQLITE_DONE) return std::optional<RunRecord>();
  if (result != SQLITE_ROW) return db_->error("find");
  return std::optional<RunRecord>(read_record(select));
}

namespace {
// `where` has one parameter, the exchange ("" = every exchange).
Result<std::vector<RunRecord>> select_runs(const RunStore::Connection& db, const std::string& where,
                                           std::string_view exchange) {
  const std::string sql = std::string("SELECT ") + kColumns + " FROM runs " + where;
  Statement select(db, sql.c_str());
  if (!select.ok()) return db.error("prepare list");
  select.bind(exchange);
  std::vector<RunRecord> runs;
  for (int result = select.step(); result != SQLITE_DONE; result = select.step()) {
    if (result != SQLITE_ROW) return db.error("list");
    runs.push_back(read_record(select));
  }
  return runs;
}
}  // namespace

Result<std::vector<RunRecord>> RunStore::list(std::string_view exchange) const {
  return select_runs(*db_, "WHERE (?1 = '' OR exchange = ?1) ORDER BY created_at DESC, id DESC",
                     exchange);
}

Result<std::vector<RunRecord>> RunStore::unfinished(std::string_view exchange) const {
  return select_runs(*db_,
                     "WHERE state NOT IN ('done','failed','cancelled') AND (?1 = '' OR exchange = "
                     "?1) ORDER BY created_at, id",
                     exchange);
}

Result<std::uint64_t> RunStore::claim_unassigned(std::string_view exchange,
                                                 std::string_view protocol_id) {
  Statement update(*db_,
                   "UPDATE runs SET exchange=? WHERE exchange='' AND "
                   "json_extract(facts, '$.protocol_id')=?");
  if (!update.ok()) return db_->error("prepare claim");
  update.bind(exchange).bind(protocol_id);
  if (update.step() != SQLITE_DONE) return db_->error("claim");
  return static_cast<std::uint64_t>(sqlite3_changes(db_->db));
}

Result<std::optional<std::string>> RunStore::last_started_run_time(
    std::string_view exchange) const {
  Statement select(*db_,
                   "SELECT created_at FROM runs WHERE reached_upload=1 AND (?1 = '' OR exchange = "
                   "?1) ORDER BY created_at DESC LIMIT 1");
  if (!select.ok()) return db_->error("prepare last run");
  select.bind(exchange);
  const int result = select.step();
  if (result == SQLITE_DONE) return std::optional<std::string>();
  if (result != SQLITE_ROW) return db_->error("last run");
  return std::optional<std::string>(select.text(0));
}

Result<std::optional<std::string>> RunStore::remember_accepted_return(std::string_view run_id,
                                                                      std::string_view sha256) {
  Statement insert(*db_,
                   "INSERT OR IGNORE INTO accepted_returns (sha256, run_id, accepted_at) "
                   "VALUES (?,?,?)");
  if (!insert.ok()) return db_->error("prepare remember return");
  insert.bind(sha256).bind(run_id).bind(now_utc());
  if (insert.step() != SQLITE_DONE) return db_->error("remember return");
  Statement select(*db_, "SELECT run_id FROM accepted_returns WHERE sha256=?");
  if (!select.ok()) return db_->error("prepare find return");
  select.bind(sha256);
  if (select.step() != SQLITE_ROW) return db_->error("find return");
  const std::string first = select.text(0);
  if (first == run_id) return std::optional<std::string>();
  return std::optional<std::string>(first);
}

Result<std::vector<std::string>> RunStore::purge_finished_before(std::string_view cutoff_utc,
                                                                 std::string_view exchange) {
  // A cutoff is a UTC timestamp; anything else is a programming error upstream.
  if (cutoff_utc.empty() ||
      cutoff_utc.find_first_not_of("0123456789-T:Z") != std::string_view::npos) {
    return kbix::fail("run.db_error", "bad retention cutoff");
  }
  Statement select(*db_,
                   "SELECT id FROM runs WHERE state IN ('done','failed','cancelled') AND "
                   "created_at < ?1 AND (?2 = '' OR exchange = ?2)");
  if (!select.ok()) return db_->error("prepare purge");
  select.bind(cutoff_utc.substr(0, 20)).bind(exchange);
  std::vector<std::string> ids;
  for (int result = select.step(); result != SQLITE_DONE; result = select.step()) {
    if (result != SQLITE_ROW) return db_->error("purge");
    ids.push_back(select.text(0));
  }
  for (const auto& id : ids) {
    Statement remove(*db_, "DELETE FROM runs WHERE id=?");
    if (!remove.ok()) return db_->error("prepare purge");
    remove.bind(id);
    if (remove.step() != SQLITE_DONE) return db_->error("purge");
  }
  return ids;
}

}  // namespace kbix
