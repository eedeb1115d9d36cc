// Exchange: the VDAB round trip as durable steps over the run store (DESIGN.md §1, inv. 8, 10-12).
//
// Each step does its work, commits the next state (with the facts it learned) in the run store,
// then writes its audit entry; a run killed anywhere resumes at the state last committed, and
// every step is safe to repeat: sealing rewrites the same local file, the upload first checks the
// remote (and the return directory) so it happens once, publication compares the file already
// published by SHA-256, and clean-up ignores files already gone.
//
// Local layout in the state directory: runs/<run-id>/ holds snapshot.csv.p7m (the KBI extract,
// sealed to our own certificate), outbound-list.csv.p7m (the outbound list made while the extract
// was checked, sealed to our own certificate), outbound.csv.p7m, return.csv.p7m and manifest.json,
// and work/, the only place where plaintext holding an INSZ exists (inv. 10): wiped before and
// after every step, and wiped whole by a cancel, a final failure and at start-up for every run not
// executing. quarantine/ keeps (still sealed) returns that match no waiting run.
// The pseudonymised output is written once, where it is published: the merge writes it to
// <output_dir>/.<run-id>.output.pending (0600, hidden, private to kbix), and publication only
// gives it its final name and mode (link, 0640), so 1M rows are not copied between folders. The
// pending file is wiped with work/ (it stays only from merge to publication, as work/output.csv
// did before; a run merged by an earlier version still publishes that one).
//
// The same object serves `kbix run once` and the daemon's worker thread. It is NOT thread-safe:
// one Exchange per thread (the RunStore connection is its own; the AuditLog is shared and
// thread-safe). Does NOT guarantee: exactly-once upload when the partner removed our file AND its
// return before we recorded the upload (the remote holds nothing to compare with then).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kbix/audit/audit.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/result.hpp"
#include "kbix/exchange/exchange_observer.hpp"
#include "kbix/exchange/remote_store.hpp"
#include "kbix/office/password.hpp"
#include "kbix/runs/run_store.hpp"
#include "kbix/sftp/sftp_readiness.hpp"

namespace kbix {

struct StartRequest {
  AuditActor actor;
  std::string trigger = "operator";  // "operator" or "schedule"
  bool force = false;                // run outside the window or sooner than the cadence
  std::string reason;                // required with force; audited
  // An export on request (Genk): the municipality's request reference, audited with the run.
  std::string request_reference;
};

// `kbix export password RUN`: the channel the operator sends the password by (never the file's).
struct PasswordRelease {
  std::string channel;  // one of password_channels()
  bool again = false;   // a second release, which needs a reason
  std::string reason;
};
const std::vector<std::string>& password_channels();  // sms, phone, letter, in-person

// `kbix export delivered RUN`: how the list reached the municipality.
struct DeliveryRecord {
  std::string channel;    // one of delivery_channels()
  std::string reference;  // optional: a SharePoint link name, a mail's ticket, ...
};
const std::vector<std::string>& delivery_channels();  // sharepoint, email, sftp

class Exchange {
 public:
  using Clock = std::chrono::system_clock;

  // `remote` opens a connection to the partner's store; by default the SFTP server of
  // config.sftp. Tests pass an in-memory double (tests/support/fake_remote_store.hpp).
  Exchange(Config config, RunStore& store, AuditLog& audit, RemoteStoreConnector remote = {});

  // Creates a run for the single *.csv extract waiting in the inbox, after the protocol's rules
  // (window, cadence: inv. 12) and only when no other run is unfinished. Errors: run.busy,
  // run.no_extract, run.ambiguous_extract, run.reason_required, schedule.*.
  Result<RunRecord> start_run(const StartRequest& request, Clock::time_point now = Clock::now());

  // Performs the next step of a run. Returns the state it reached (unchanged while a return is
  // awaited). A failed step marks the run failed (retryable for transient transport failures)
  // and returns the error.
  Result<RunState> step(const std::string& run_id);

  // Steps a run until it waits for its return, finishes, fails or `stop` becomes true.
  Result<RunState> drive(const std::string& run_id);

  // One pass over the return directory: downloads ready returns of waiting runs, quarantines
  // returns that match no waiting run, flags overdue runs. One SFTP connection per pass.
  Status poll_returns(Clock::time_point now = Clock::now());

  // Retention (inv. 11): purges finished runs and their outputs older than the protocol allows,
  // and quarantined files older than [sftp] quarantine_max_age_days (audited: quarantine.purge).
  Status purge_expired(Clock::time_point now = Clock::now());

  // Resumes runs that failed for a passing reason (network, disk), at most kAutomaticRetries
  // times each; then an operator decides (`kbix run retry`). Audited as run.retry.
  Status resume_retryable();
  static constexpr int kAutomaticRetries = 5;

  // Removes the remote files of cancelled runs (best effort, once, audited as remote.delete).
  Status clean_cancelled();

  // Resumes retryable failures, drives every unfinished run (start-up resume), then polls for
  // returns.
  Status tick(Clock::time_point now = Clock::now());

  // Operator actions (inv. 12, operator_actions.cpp): each is audited before it takes effect
  // and refused (audit.unavailable) when its audit entry cannot be written; a crash in between
  // never leaves a change unaudited (reconcile_actions at start-up).
  // cancel_run returns true when the run is cancelled now, false when a step is under way: the
  // cancel is then recorded and audited, and takes effect right after that step has committed
  // and audited its side effect (run.cancel_applied). Errors: run.unknown, run.already_finished,
  // audit.unavailable. The run's work/ is wiped once it is cancelled.
  Result<bool> cancel_run(const std::string& run_id, const std::string& reason,
                          const AuditActor& actor);
  // Errors: run.unknown, run.not_retryable, audit.unavailable.
  Status retry_run(const std::string& run_id, const AuditActor& actor);
  // Municipal exports (export_actions.cpp). The password of a list, released once to an operator
  // (audited before the value is returned: who, when, which channel, never the value; a second
  // release needs `again` and a reason). Errors: run.unknown, export.not_an_export,
  // export.no_password, export.password_released, export.bad_channel, run.reason_required.
  Result<office::FilePassword> release_password(const std::string& run_id,
                                                const PasswordRelease& request,
                                                const AuditActor& actor);
  // The operator delivered a placed list: placed -> delivered (audited first); the next step
  // removes the outbox copy. Errors: run.unknown, export.bad_channel, run.not_steppable,
  // export.delivered_by_kbix (the exchange delivers by SFTP: kbix's own step records it).
  Status record_delivery(const std::string& run_id, const DeliveryRecord& request,
                         const AuditActor& actor);
  // An export whose protocol has ended: removes its outbox copies, lists, sealed passwords and
  // row references, cancels its unfinished runs, audits export.protocol_ended. Runs on each tick.
  Status clean_ended_export(Clock::time_point now = Clock::now());
  // A status return (the template): each *.csv an operator dropped in status_inbox() is read,
  // published to [export] status_dir and removed, or refused whole and renamed *.refused;
  // audited export.status_imported / export.status_refused. Runs on each tick.
  Status import_status_returns(Clock::time_point now = Clock::now());
  std::filesystem::path status_inbox() const;     // <inbox_dir>/status-<exchange>
  std::filesystem::path references_file() const;  // <state_dir>/references/<exchange>.p7m
  // The name of a run's list as the municipality sees it ("<protocol>_<run>.xlsx").
  std::string list_file_name(const std::string& run_id) const;

  // Start-up: an audited cancel still waiting is applied; any other action that never took
  // effect is audited as operator.action_abandoned and dropped.
  Status reconcile_actions();
  // Applies the audited cancels waiting for a step (the worker calls it after each step).
  Status apply_pending_cancels();

  // One gate shared by every Exchange of a process (the daemon's worker and control socket):
  // a step holds it from reading the run's state to auditing its outcome.
  void set_step_gate(std::mutex* gate) { step_gate_ = gate; }

  // Set by the daemon on SIGTERM: steps stop at the next safe point (between two steps).
  void set_stop_flag(const std::atomic<bool>* stop) { stop_ = stop; }

  // Told about state changes and operational events (notifications, metrics); may be null.
  void set_observer(ExchangeObserver* observer) { observer_ = observer; }

  const Config& config() const { return config_; }
  // A reload: the next step reads the new settings; the real transport follows a changed [sftp]
  // (a connector passed to the constructor stays).
  void replace_config(Config config);

  std::filesystem::path run_directory(const std::string& run_id) const;
  std::filesystem::path published_output(const std::string& run_id) const;
  std::filesystem::path published_manifest(const std::string& run_id) const;
  // Where the merge writes the output that publication names (pending_output_path).
  std::filesystem::path pending_output(const std::string& run_id) const;

 private:
  struct StepOutcome {
    RunState next;
    nlohmann::json facts = nlohmann::json::object();
    std::string audit_event;
  };
  Result<RunState> step_locked(const std::string& run_id);
  Result<std::string> audit_intent(const std::string& run_id, const std::string& event,
                                   nlohmann::json details, const AuditActor& actor);
  Status apply_cancel(const OperatorAction& action, std::string_view applied_after);
  bool is_mine(const OperatorAction& action) const;
  Result<StepOutcome> run_step(const RunRecord& run);
  Result<StepOutcome> seal_extract(const RunRecord& run);
  // The steps of an export (export_steps.cpp).
  Result<StepOutcome> seal_export_extract(const RunRecord& run);
  Result<StepOutcome> make_list(const RunRecord& run);
  Result<StepOutcome> place_list(const RunRecord& run);
  Result<StepOutcome> finish_export(const RunRecord& run);
  // placed -> delivered when the exchange delivers by SFTP (export_delivery.cpp): the list is
  // dropped on the municipality's server once, as the round trip's upload is.
  Result<StepOutcome> deliver_list(const RunRecord& run);
  // A passing failure of that drop: the run stays placed (audited export.delivery_failed, the
  // attempt counted in its facts) and the next tick tries again; returns the error to report.
  Error keep_placed_for_next_attempt(const RunRecord& run, const Error& error);
  Result<RunRecord> export_run(const std::string& run_id) const;
  Result<StepOutcome> seal_outbound(const RunRecord& run);
  // The inbox of a source several exchanges read (shared_inbox.cpp).
  Status remove_sealed_extract(const RunRecord& run);
  Status sealed_before(const std::filesystem::path& extract) const;  // run.extract_already_sealed
  Result<std::vector<std::string>> readers_still_to_seal(std::string_view sha) const;
  Result<StepOutcome> upload_outbound(const RunRecord& run);
  Result<StepOutcome> verify_return(const RunRecord& run);
  Result<StepOutcome> merge_return(const RunRecord& run);
  Result<StepOutcome> publish_output(const RunRecord& run);
  Result<StepOutcome> clean_up(const RunRecord& run);
  Status download_return(const RunRecord& run, RemoteStore& remote, const RemoteEntry& entry);
  // Starts opening the run's snapshot into memory on a thread of its own, for the merge: while
  // its return downloads, then is verified (return_steps.cpp).
  void start_opening_snapshot(const std::string& run_id);
  // Drops the snapshot being opened unless it is `run_id`'s and that run waits for its
  // verification (return_downloaded): no plaintext stays in memory for a run that will not merge.
  void keep_snapshot_opening_for(const std::string& run_id);
  Status quarantine_return(RemoteStore& remote, const RemoteEntry& entry, std::string_view why);
  Status purge_quarantine(Clock::time_point now);
  Status flag_overdue(const RunRecord& run, Clock::time_point now);

  // Connects (a few attempts for passing failures) and audits the connection.
  Result<std::unique_ptr<RemoteStore>> connect_remote(const std::string& run_id);
  // Removes our files of a run from the partner's store; a file already gone is fine.
  Result<nlohmann::json> remove_remote_files(
      RemoteStore& remote, const std::string& run_id,
      const std::vector<std::pair<std::string, std::string>>& files);
  Status record(const std::string& run_id, std::string event, nlohmann::json details,
                const std::optional<AuditActor>& actor = std::nullopt);
  // Advances the run and appends the audit entry the step owes; the entry is kept in the run's
  // facts until appended, and write_pending_audits() appends one a crash left behind.
  Status commit_and_record(const std::string& run_id, RunState from, RunState to,
                           const std::string& event, const nlohmann::json& facts);
  Status write_pending_audits();
  Status wipe_work(const std::string& run_id, bool keep_output) const;
  void progress(const std::string& run_id, std::string step, std::uint64_t done,
                std::uint64_t total);
  // progress() of one run's transfer, for SftpClient/RemoteStore calls.
  TransferProgress transfer_progress(const std::string& run_id, const std::string& step) {
    return [this, run_id, step](std::uint64_t done, std::uint64_t total) {
      progress(run_id, step, done, total);
    };
  }

  Config config_;
  bool own_connector_;  // connect_ is sftp_remote_store(config_.sftp), not the caller's
  RemoteStoreConnector connect_;
  RunStore& store_;
  AuditLog& audit_;
  const std::atomic<bool>* stop_ = nullptr;
  std::mutex* step_gate_ = nullptr;
  ExchangeObserver* observer_ = nullptr;
  void tell(ExchangeNoticeKind kind, const std::string& run_id, RunState state,
            std::string code = {}) const {
    if (observer_ != nullptr) {
      observer_->on_exchange_notice({kind, run_id, state, std::move(code), config_.exchange.name});
    }
  }
  ReadinessTracker readiness_;
  Clock::time_point last_progress_write_{};
  std::set<std::string> quarantine_refused_;  // audited once each, left on the server
  // The return the last step verified, kept in memory for its merge (exchange_steps.cpp).
  struct VerifiedReturn;
  std::shared_ptr<VerifiedReturn> verified_return_;
  // The snapshot being opened for the run whose return downloads or is verified now.
  struct SnapshotOpening;
  std::shared_ptr<SnapshotOpening> snapshot_opening_;
};

// The single *.csv file in `inbox` (the operator's KBI extract), which must open as a regular
// file (kbix/core/input_file.hpp: a symbolic link, FIFO, directory or device is refused by name).
// Errors: run.no_extract, run.ambiguous_extract (names the count, not the files' content),
// run.extract_not_regular, run.bad_extract_name (a name that is not plain UTF-8 text, shown
// sanitised), io.read. Never throws.
Result<std::filesystem::path> find_extract(const std::filesystem::path& inbox);

// <output_dir>/.<run-id>.output.pending: the merged output of a run until it is published.
std::filesystem::path pending_output_path(const std::filesystem::path& output_dir,
                                          const std::string& run_id);

// Empties runs/<id>/work/ (the only place plaintext exists) and removes `pending_output`, keeping
// the pseudonymised output (`pending_output`, or an earlier version's work/output.csv) when
// `keep_output`. Never throws.
Status wipe_run_work(const std::filesystem::path& run_dir,
                     const std::filesystem::path& pending_output, bool keep_output);

// Whether a run still needs its pseudonymised output: merged, or failed retryably while
// publishing it.
bool keeps_output(const RunRecord& run);

// At start-up no run is executing: empties the work/ of every run and removes its pending output
// (keeping only the output a run still has to publish) and moves a pre-work/ layout's output.csv
// into work/ or removes it. Returns how many runs had plaintext removed.
Result<std::uint64_t> wipe_idle_plaintext(const Config& config, const RunStore& store);

}  // namespace kbix
