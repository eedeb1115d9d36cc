#include "kbix/exchange/exchange.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "internal/exchange_internal.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/runs/schedule.hpp"
#include "kbix/sftp/retry.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

// "2026-11-22..." -> that day; nullopt when the text does not start with a date.
std::optional<std::chrono::sys_days> day_of(const std::string& timestamp) {
  int year = 0;
  unsigned month = 0, day = 0;
  if (std::sscanf(timestamp.c_str(), "%4d-%2u-%2u", &year, &month, &day) != 3) return {};
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                         std::chrono::day{day}};
  if (!date.ok()) return {};
  return std::chrono::sys_days{date};
}

std::int64_t epoch_seconds(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

}  // namespace

Exchange::Exchange(Config config, RunStore& store, AuditLog& audit, RemoteStoreConnector remote)
    : config_(std::move(config)),
      own_connector_(!remote),
      connect_(remote ? std::move(remote) : sftp_remote_store(config_.sftp.connection)),
      store_(store),
      audit_(audit),
      readiness_(
          [this](const std::string& name) {
            return run_id_from_return_name(config_.protocol.id, name).has_value();
          },
          config_.sftp.connection.min_age) {}

void Exchange::replace_config(Config config) {
  config_ = std::move(config);
  if (own_connector_) connect_ = sftp_remote_store(config_.sftp.connection);
}

fs::path Exchange::run_directory(const std::string& run_id) const {
  return config_.daemon.state_dir / "runs" / run_id;
}
fs::path Exchange::published_output(const std::string& run_id) const {
  return config_.daemon.output_dir / (config_.protocol.id + "_" + run_id + ".csv");
}
fs::path Exchange::pending_output(const std::string& run_id) const {
  return pending_output_path(config_.daemon.output_dir, run_id);
}
fs::path Exchange::published_manifest(const std::string& run_id) const {
  return config_.daemon.output_dir / (config_.protocol.id + "_" + run_id + ".manifest.json");
}

Result<fs::path> find_extract(const fs::path& inbox) {
  // Every *.csv name counts, whatever it is: a symbolic link, FIFO or directory is refused by
  // name when it is opened (InputFile), never skipped silently or followed. No call here throws.
  std::error_code error;
  std::vector<fs::path> found;
  std::optional<std::string> unsafe_name;  // shown sanitised, never raw (invariant 16)
  fs::directory_iterator entry(inbox, error);
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    const auto name = entry->path().filename().string();
    if (name.size() > 4 && name.front() != '.' && name.ends_with(".csv")) {
      if (!is_safe_text(name)) {
        unsafe_name = sanitize_untrusted_text(name);
        continue;
      }
      found.push_back(entry->path());
    }
  }
  if (error) return fail("run.no_extract", "cannot read the inbox " + inbox.string());
  if (unsafe_name) {
    return fail("run.bad_extract_name",
                "the inbox file \"" + *unsafe_name +
                    "\" has a name that is not plain UTF-8 text (invalid bytes or control "
                    "characters); rename it");
  }
  if (found.empty()) {
    return fail("run.no_extract", "no KBI extract (*.csv) in the inbox " + inbox.string());
  }
  if (found.size() > 1) {
    return fail("run.ambiguous_extract", std::to_string(found.size()) +
                                             " *.csv files in the inbox " + inbox.string() +
                                             "; leave exactly one KBI extract there");
  }
  auto readable = InputFile::open(found.front(), "run.extract_not_regular");
  if (!readable) return fail(std::move(readable).error());
  return found.front();
}

void maybe_kill_at(std::string_view point) {
  const char* target = std::getenv("KBIX_TEST_KILL_AFTER");
  if (target != nullptr && point == target) {
    spdlog::warn("test hook: killing the process after {}", target);
    ::raise(SIGKILL);
  }
}

void maybe_kill_after(RunState reached) {
  maybe_kill_at(to_string(reached));
}

// The state and the audit entry it owes are committed together: the entry rides in the run's
// facts ("pending_audit") until it is appended, so a crash between the commit and the append
// loses nothing; write_pending_audits() appends it on the next tick (inv. 9).
Status Exchange::commit_and_record(const std::string& run_id, RunState from, RunState to,
                                   const std::string& event, const nlohmann::json& facts) {
  nlohmann::json with_pending = facts;
  with_pending["pending_audit"] = {{"event", event}, {"details", facts}};
  KBIX_TRY(store_.advance(run_id, from, to, with_pending));
  maybe_kill_at(std::string(to_string(to)) + "_unaudited");  // committed, not audited
  KBIX_TRY(record(run_id, event, facts));
  return store_.merge_facts(run_id, {{"pending_audit", nullptr}});
}

Status Exchange::write_pending_audits() {
  auto runs = store_.list(config_.exchange.name);
  if (!runs) return fail(std::move(runs).error());
  for (const auto& run : *runs) {
    const auto pending = run.facts.find("pending_audit");
    if (pending == run.facts.end() || !pending->is_object()) continue;
    nlohmann::json details = pending->value("details", nlohmann::json::object());
    details["written_after_restart"] = true;
    KBIX_TRY(record(run.id, pending->value("event", std::string("run.unknown")), details));
    KBIX_TRY(store_.merge_facts(run.id, {{"pending_audit", nullptr}}));
  }
  return ok();
}

Status Exchange::record(const std::string& run_id, std::string event, nlohmann::json details,
                        const std::optional<AuditActor>& actor) {
  AuditEvent entry;
  entry.run_id = run_id;
  entry.actor = actor ? *actor : scheduler_actor();
  entry.event = std::move(event);
  entry.details = std::move(details);
  entry.exchange = config_.exchange.name;
  return audit_.append(entry);
}

Result<RunRecord> Exchange::start_run(const StartRequest& request, Clock::time_point now) {
  if (contains_insz_like_number(request.reason)) {  // checked before anything is written
    return fail("run.reason_personal_data",
                "the reason looks like it holds a national register number (INSZ); describe "
                "the reason without personal data (a ticket number is fine)");
  }

  auto refuse = [&](const Error& error) -> Result<RunRecord> {
    (void)record("", "run.start_refused",
                 {{"trigger", request.trigger}, {"code", error.code}, {"message", error.message}},
                 request.actor);
    return fail(error);
  };
  auto unfinished = store_.unfinished(config_.exchange.name);
  if (!unfinished) return fail(std::move(unfinished).error());
  if (!unfinished->empty()) {
    return refuse({"run.busy", "run " + unfinished->front().id + " is still " +
                                   std::string(to_string(unfinished->front().state)) +
                                   "; finish or cancel it first"});
  }
  auto last = store_.last_started_run_time(config_.exchange.name);
  if (!last) return fail(std::move(last).error());
  const auto today = std::chrono::floor<std::chrono::days>(now);
  const auto last_day = *last ? day_of(**last) : std::nullopt;
  const RunPermission permission = check_run_allowed(config_.protocol, last_day, today);
  if (permission.code == "schedule.protocol_ended")
    return refuse(Error::from_text(permission.code, permission.explanation));
  if (!permission.allowed && !request.force) {
    return refuse(Error::from_text(
        permission.code,
        permission.explanation + " (an operator may force it: --force --reason TEXT)"));
  }
  if (request.force && request.reason.empty()) {
    return refuse({"run.reason_required", "a forced run needs --reason TEXT (it is audited)"});
  }
  const bool needs_reference =
      config_.protocol.export_rules && config_.protocol.export_rules->request_reference_required;
  if (needs_reference && request.request_reference.empty()) {
    return refuse({"run.request_reference_required",
                   "protocol " + config_.protocol.id +
                       " gives a list only on the municipality's request: give its reference "
                       "with --request-ref TEXT"});
  }
  if (!request.request_reference.empty()) {
    if (request.request_reference.size() > 100 || !is_safe_text(request.request_reference) ||
        contains_insz_like_number(request.request_reference)) {
      return refuse({"run.bad_request_reference",
                     "--request-ref must be one line of plain text (at most 100 characters) "
                     "without personal data"});
    }
  }
  auto extract = find_extract(config_.inbox());
  if (!extract) return refuse(extract.error());
  if (auto used = sealed_before(*extract); !used) {
    return refuse(used.error());
  }

  RunRecord run;
  run.id = make_run_id(now);
  run.exchange = config_.exchange.name;
  run.trigger = request.trigger;
  run.actor = request.actor.name;
  run.actor_uid = request.actor.uid;
  run.forced = request.force;
  run.force_reason = request.reason;
  run.facts = {{"extract_file", extract->string()},
               {"protocol_id", config_.protocol.id},
               {"rule", permission.allowed ? "within the protocol's rules" : permission.code}};
  if (!request.request_reference.empty()) {
    run.facts["request_reference"] = request.request_reference;
  }
  std::error_code error;
  fs::create_directories(run_directory(run.id) / "work", error);
  if (error) return fail("io.create", "cannot create " + run_directory(run.id).string());
  fs::permissions(run_directory(run.id), fs::perms::owner_all, error);
  // Audited before it takes effect (inv. 12): no audit entry, no run.
  auto action = audit_intent(run.id, request.force ? "run.start_forced" : "run.start",
                             {{"trigger", request.trigger},
                              {"forced", request.force},
                              {"reason", request.reason},
                              {"rule", run.facts["rule"]},
                              {"request_reference", request.request_reference},
                              {"extract_file", extract->filename().string()}},
                             request.actor);
  if (!action) return fail(std::move(action).error());
  Result<RunRecord> created = fail("run.db_error", "run " + run.id + " was not created");
  KBIX_TRY(store_.complete_action(*action, [&]() -> Status {
    created = store_.create(run);
    if (!created) return fail(created.error());
    return ok();
  }));
  const ScopedLogFields fields({run.id, request.force ? "run.start_forced" : "run.start", ""});
  spdlog::info("run {} started by {} ({})", run.id, request.actor.name, request.trigger);
  tell(ExchangeNoticeKind::state_changed, run.id, RunState::planned);
  return created;
}

void Exchange::progress(const std::string& run_id, std::string step, std::uint64_t done,
                        std::uint64_t total) {
  const auto now = Clock::now();
  if (done != total && now - last_progress_write_ < std::chrono::seconds(1)) return;
  last_progress_write_ = now;
  (void)store_.set_progress(run_id, RunProgress{step, done, total});
  spdlog::info("run {}: {} {}/{} bytes", run_id, step, done, total);
}

Result<Exchange::StepOutcome> Exchange::run_step(const RunRecord& run) {
  if (config_.is_export()) {
    switch (run.state) {
      case RunState::planned:
        return seal_export_extract(run);
      case RunState::extract_sealed:
        return make_list(run);
      case RunState::list_sealed:
        return place_list(run);
      case RunState::placed:
        if (config_.delivers_by_sftp()) return deliver_list(run);
        return fail("run.not_steppable", "run " + run.id +
                                             " waits for an operator to deliver its list "
                                             "(kbix export delivered)");
      case RunState::delivered:
        return finish_export(run);
      default:
        return fail("run.not_steppable",
                    "run " + run.id + " is " + std::string(to_string(run.state)));
    }
  }
  switch (run.state) {
    case RunState::planned:
      return seal_extract(run);
    case RunState::extract_sealed:
      return seal_outbound(run);
    case RunState::outbound_sealed:
      return upload_outbound(run);
    case RunState::uploaded:
      return StepOutcome{RunState::awaiting_return,
                         {{"awaiting_since_epoch", epoch_seconds(Clock::now())}},
                         "run.awaiting_return"};
    case RunState::return_downloaded:
      return verify_return(run);
    case RunState::return_verified:
      return merge_return(run);
    case RunState::merged:
      return publish_output(run);
    case RunState::published:
      return clean_up(run);
    case RunState::cleaned:
      return StepOutcome{RunState::done, nlohmann::json::object(), "run.done"};
    default:
      return fail("run.not_steppable",
                  "run " + run.id + " is " + std::string(to_string(run.state)));
  }
}

Result<RunState> Exchange::step(const std::string& run_id) {
  std::unique_lock<std::mutex> gate;
  if (step_gate_ != nullptr) gate = std::unique_lock(*step_gate_);
  auto reached = step_locked(run_id);
  if (auto cancelled = apply_pending_cancels(); !cancelled) {
    spdlog::error("run {}: a waiting cancel could not be applied: {}", run_id,
                  cancelled.error().describe());
  }
  return reached;
}

Result<RunState> Exchange::step_locked(const std::string& run_id) {
  auto found = store_.find(run_id);
  if (!found) return fail(std::move(found).error());
  if (!*found) return fail("run.unknown", "no run " + run_id);
  const RunRecord run = **found;
  const ExportDelivery delivery = config_.export_settings.delivery;
  if (is_terminal(run.state) || is_waiting(run.state, delivery)) return run.state;
  // A verified return is kept only for the merge step of its run that follows (the snapshot being
  // opened, for the verification that follows its download: keep_snapshot_opening_for).
  if (run.state != RunState::return_verified) verified_return_.reset();
  keep_snapshot_opening_for(run.id);
  // Every line logged during this step (sftp, envelope, ...) names the run and the step.
  const ScopedLogFields step_fields({run.id, "run." + std::string(to_string(run.state)), ""});
  // Plaintext never outlives its step (inv. 10): work/ is emptied before and after, and the
  // pending output removed, except the pseudonymised output while it waits for publication.
  KBIX_TRY(wipe_work(run.id, run.state == RunState::merged));
  // A daemon boundary (invariant 16): an exception fails this run's step, never the process.
  auto outcome = [&]() -> Result<StepOutcome> {
    try {
      return run_step(run);
    } catch (const std::exception& error) {
      return fail("run.internal_error", sanitize_untrusted_text(error.what()));
    } catch (...) {
      return fail("run.internal_error", "unknown exception");
    }
  }();
  if (!outcome) {
    const Error& error = outcome.error();
    // Passing conditions only: a lost connection or a full disk. Host-key and authentication
    // failures are never retried (to the partner they would look like an attack).
    const bool retryable = is_retryable_failure(error);
    // An SFTP drop that failed for a passing reason leaves the list placed: the next tick tries
    // again (a run that failed would wait for the automatic retries or an operator).
    if (retryable && run.state == RunState::placed && config_.delivers_by_sftp()) {
      return fail(keep_placed_for_next_attempt(run, error));
    }
    const ScopedLogFields fields({run.id, "run.failed", error.code});
    (void)wipe_work(run.id, retryable && run.state == RunState::merged);  // a final failure: all
    spdlog::error("run {}: {} failed: {}", run.id, to_string(run.state), error.describe());
    (void)store_.fail(run.id, error.code, error.message, retryable);
    (void)record(run.id, "run.failed",
                 {{"in_state", to_string(run.state)},
                  {"code", error.code},
                  {"message", error.message},
                  {"retryable", retryable}});
    tell(ExchangeNoticeKind::state_changed, run.id, RunState::failed, error.code);
    if (!retryable || run.facts.value("automatic_retries", 0) >= kAutomaticRetries) {
      tell(ExchangeNoticeKind::failed_for_good, run.id, RunState::failed, error.code);
    }
    return fail(error);
  }
  // The step must do what the run table says (programmer error otherwise: nothing committed).
  const RunTransition* row = transition_from(run.state, config_.protocol.kind);
  if (row == nullptr || row->by_poll || performed_by_operator(*row, delivery) ||
      outcome->next != row->to ||
      (outcome->audit_event != row->audit_event &&
       outcome->audit_event != row->alternative_event)) {
    spdlog::critical("run {}: step from {} disagrees with the run table", run.id,
                     to_string(run.state));
    return fail("run.internal_error", "step from " + std::string(to_string(run.state)) +
                                          " disagrees with the run table; nothing committed");
  }
  (void)wipe_work(run.id, outcome->next == RunState::merged);
  KBIX_TRY(
      commit_and_record(run.id, run.state, outcome->next, outcome->audit_event, outcome->facts));
  (void)store_.set_progress(run.id, RunProgress{});
  const ScopedLogFields fields({run.id, outcome->audit_event, ""});
  spdlog::info("run {}: {} -> {}", run.id, to_string(run.state), to_string(outcome->next));
  tell(ExchangeNoticeKind::state_changed, run.id, outcome->next);
  if (outcome->next == RunState::done) tell(ExchangeNoticeKind::finished, run.id, RunState::done);
  maybe_kill_after(outcome->next);
  return outcome->next;
}

Result<RunState> Exchange::drive(const std::string& run_id) {
  for (;;) {
    auto reached = step(run_id);
    if (!reached) return reached;
    if (is_terminal(*reached) || is_waiting(*reached, config_.export_settings.delivery)) {
      return reached;
    }
    if (stop_ != nullptr && stop_->load()) return reached;
  }
}

Status Exchange::flag_overdue(const RunRecord& run, Clock::time_point now) {
  if (run.overdue) return ok();
  const std::int64_t since = run.facts.value("awaiting_since_epoch", std::int64_t{0});
  const auto deadline =
      std::chrono::duration_cast<std::chrono::seconds>(config_.schedule.return_deadline).count();
  if (since == 0 || epoch_seconds(now) - since < deadline) return ok();
  KBIX_TRY(store_.set_overdue(run.id, true));
  const ScopedLogFields fields({run.id, "run.overdue", ""});
  spdlog::warn("run {}: no return after {} days; still waiting (cancel it to stop)", run.id,
               deadline / 86400);
  KBIX_TRY(record(run.id, "run.overdue", {{"deadline_days", deadline / 86400}}));
  tell(ExchangeNoticeKind::overdue, run.id, run.state);
  return ok();
}

Status Exchange::poll_returns(Clock::time_point now) {
  auto unfinished = store_.unfinished(config_.exchange.name);
  if (!unfinished) return fail(std::move(unfinished).error());
  std::vector<RunRecord> waiting;
  for (const auto& run : *unfinished) {
    if (run.state == RunState::awaiting_return) {
      waiting.push_back(run);
      KBIX_TRY(flag_overdue(run, now));
    }
  }
  auto client = connect_remote(waiting.empty() ? "" : waiting.front().id);
  if (!client) return fail(std::move(client).error());
  RemoteStore& remote = **client;
  auto listing = remote.list(config_.sftp.return_dir);
  if (!listing) return fail(std::move(listing).error());
  for (const auto& rejected : listing->rejected) {
    KBIX_TRY(record("", "return.name_rejected",
                    {{"name", rejected.escaped_name}, {"code", rejected.code}}));
  }
  for (const auto& entry : readiness_.observe(listing->entries, now)) {
    const auto run_id = run_id_from_return_name(config_.protocol.id, entry.name);
    const auto match = std::find_if(waiting.begin(), waiting.end(),
                                    [&](const RunRecord& run) { return run.id == run_id; });
    if (match == waiting.end()) {
      KBIX_TRY(quarantine_return(remote, entry, "no run is waiting for this return"));
      tell(ExchangeNoticeKind::return_quarantined, "", RunState::awaiting_return, "no_waiting_run");
      continue;
    }
    std::unique_lock<std::mutex> gate;
    if (step_gate_ != nullptr) gate = std::unique_lock(*step_gate_);
    const ScopedLogFields fields({match->id, "run.download", ""});
    start_opening_snapshot(match->id);  // for the merge, on the other core while this downloads
    auto downloaded = download_return(*match, remote, entry);
    (void)apply_pending_cancels();
    keep_snapshot_opening_for(match->id);
    if (!downloaded) return downloaded;
    tell(ExchangeNoticeKind::state_changed, match->id, RunState::return_downloaded);
  }
  tell(ExchangeNoticeKind::poll_succeeded, "", RunState::awaiting_return);
  return ok();
}

Status Exchange::tick(Clock::time_point now) {
  KBIX_TRY(write_pending_audits());
  KBIX_TRY(clean_ended_export(now));
  if (auto statuses = import_status_returns(now); !statuses) {
    spdlog::warn("status returns: {}", statuses.error().describe());
  }
  {
    std::unique_lock<std::mutex> gate;
    if (step_gate_ != nullptr) gate = std::unique_lock(*step_gate_);
    KBIX_TRY(apply_pending_cancels());
  }
  KBIX_TRY(resume_retryable());
  if (auto cleaned = clean_cancelled(); !cleaned) {
    spdlog::warn("clean-up of cancelled runs: {}", cleaned.error().describe());
  }
  auto unfinished = store_.unfinished(config_.exchange.name);
  if (!unfinished) return fail(std::move(unfinished).error());
  bool any_waiting = false;
  for (const auto& run : *unfinished) {
    if (stop_ != nullptr && stop_->load()) return ok();
    auto reached = drive(run.id);
    if (reached && *reached == RunState::awaiting_return) any_waiting = true;
  }
  if (any_waiting) {
    KBIX_TRY(poll_returns(now));
    auto again = store_.unfinished(config_.exchange.name);
    if (!again) return fail(std::move(again).error());
    for (const auto& run : *again) {
      if (stop_ != nullptr && stop_->load()) return ok();
      if (run.state != RunState::awaiting_return) (void)drive(run.id);
    }
  }
  return ok();
}

}  // namespace kbix
