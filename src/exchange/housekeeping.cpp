// The engine's housekeeping between steps: the work folders of runs (wiped of plaintext between
// steps and at start-up), retention (runs past the protocol's years are purged with their files),
// automatic retries of retryable failures, and the remote clean-up of cancelled runs.
#include <spdlog/spdlog.h>

#include "internal/exchange_internal.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/reports/run_reports.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/runs/schedule.hpp"

namespace kbix {

namespace fs = std::filesystem;

fs::path pending_output_path(const fs::path& output_dir, const std::string& run_id) {
  return output_dir / ("." + run_id + ".output.pending");
}

Status wipe_run_work(const fs::path& run_dir, const fs::path& pending_output, bool keep_output) {
  const fs::path work = run_dir / "work";
  std::error_code error;
  if (!keep_output) fs::remove(pending_output, error);
  error.clear();
  fs::directory_iterator entry(work, error);
  std::vector<fs::path> doomed;
  for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
    if (keep_output && entry->path().filename() == "output.csv") continue;
    doomed.push_back(entry->path());
  }
  for (const auto& path : doomed) fs::remove_all(path, error);
  error.clear();
  fs::create_directories(work, error);
  fs::permissions(work, fs::perms::owner_all, error);
  if (error) return fail("io.create", "cannot prepare " + work.string());
  return ok();
}

bool keeps_output(const RunRecord& run) {
  return run.state == RunState::merged ||
         (run.state == RunState::failed && run.retryable && run.failed_in == RunState::merged);
}

Result<std::uint64_t> wipe_idle_plaintext(const Config& config, const RunStore& store) {
  auto runs = store.list();
  if (!runs) return fail(std::move(runs).error());
  std::uint64_t wiped_runs = 0;
  for (const auto& run : *runs) {
    const fs::path dir = config.daemon.state_dir / "runs" / run.id;
    std::error_code error;
    if (!fs::is_directory(dir, error)) continue;
    // Before kbix kept every plaintext file in work/, the output waited in the run directory.
    const fs::path legacy = dir / "output.csv";
    if (fs::exists(fs::symlink_status(legacy, error))) {
      fs::create_directories(dir / "work", error);
      if (keeps_output(run)) {
        fs::rename(legacy, dir / "work" / "output.csv", error);
      } else {
        fs::remove(legacy, error);
      }
    }
    const fs::path pending = pending_output_path(config.daemon.output_dir, run.id);
    bool had_plaintext = !keeps_output(run) && fs::exists(fs::symlink_status(pending, error));
    error.clear();
    fs::directory_iterator entry(dir / "work", error);
    for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
      if (!(keeps_output(run) && entry->path().filename() == "output.csv")) had_plaintext = true;
    }
    KBIX_TRY(wipe_run_work(dir, pending, keeps_output(run)));
    if (had_plaintext) ++wiped_runs;
  }
  return wiped_runs;
}

Status Exchange::wipe_work(const std::string& run_id, bool keep_output) const {
  return wipe_run_work(run_directory(run_id), pending_output(run_id), keep_output);
}

Status Exchange::purge_expired(Clock::time_point now) {
  const auto cutoff = retention_cutoff(config_.protocol, now);
  auto purged = store_.purge_finished_before(utc_timestamp(cutoff), config_.exchange.name);
  if (!purged) return fail(std::move(purged).error());
  for (const auto& run_id : *purged) {
    std::error_code error;
    const auto removed_files = fs::remove_all(run_directory(run_id), error);
    fs::remove(published_output(run_id), error);
    fs::remove(pending_output(run_id), error);
    fs::remove(published_manifest(run_id), error);
    for (const auto& name : report_file_names()) {
      fs::remove(
          config_.daemon.output_dir / published_report_name(config_.protocol.id, run_id, name),
          error);
    }
    KBIX_TRY(record(run_id, "retention.purge",
                    {{"cutoff", utc_timestamp(cutoff)},
                     {"local_files_removed", removed_files},
                     {"retention_years", config_.protocol.retention_years}}));
  }
  return purge_quarantine(now);
}

Status Exchange::resume_retryable() {
  auto runs = store_.list(config_.exchange.name);
  if (!runs) return fail(std::move(runs).error());
  for (const auto& run : *runs) {
    if (run.state != RunState::failed || !run.retryable) continue;
    const int attempts = run.facts.value("automatic_retries", 0);
    if (attempts >= kAutomaticRetries) continue;  // an operator decides from here
    KBIX_TRY(store_.retry(run.id));
    KBIX_TRY(store_.merge_facts(run.id, {{"automatic_retries", attempts + 1}}));
    KBIX_TRY(record(run.id, "run.retry",
                    {{"automatic", true}, {"attempt", attempts + 1}, {"after", run.failure_code}}));
    const ScopedLogFields fields({run.id, "run.retry", run.failure_code});
    spdlog::info("run {}: retrying after {} (attempt {} of {})", run.id, run.failure_code,
                 attempts + 1, kAutomaticRetries);
    tell(ExchangeNoticeKind::state_changed, run.id, run.failed_in);
  }
  return ok();
}

Status Exchange::clean_cancelled() {
  if (config_.is_export() && !config_.delivers_by_sftp()) return ok();  // no server at all
  auto runs = store_.list(config_.exchange.name);
  if (!runs) return fail(std::move(runs).error());
  for (const auto& run : *runs) {
    // An export's SFTP drop records its temporary name apart; nothing else of it is removed (a
    // final name may already be the municipality's).
    const auto renaming =
        run.facts.find(config_.is_export() ? "delivery_renaming" : "upload_renaming");
    const bool pending = renaming != run.facts.end() && renaming->is_string();
    if (run.state != RunState::cancelled ||
        !(run.facts.contains("outbound_remote_name") || pending) ||
        run.facts.value("remote_cleaned", false)) {
      continue;
    }
    // Our sealed file should not wait on the partner's server for a run nobody follows.
    auto client = connect_remote(run.id);
    if (!client) return fail(std::move(client).error());
    RemoteStore& remote = **client;
    std::vector<std::pair<std::string, std::string>> remote_files;
    if (!config_.is_export()) {
      remote_files = {
          {config_.sftp.outbound_dir, outbound_remote_name(config_.protocol.id, run.id)},
          {config_.sftp.return_dir, return_remote_name(config_.protocol.id, run.id)}};
    }
    if (pending) remote_files.emplace_back(config_.sftp.outbound_dir, renaming->get<std::string>());
    auto removed = remove_remote_files(remote, run.id, remote_files);
    if (!removed) return fail(std::move(removed).error());
    KBIX_TRY(store_.merge_facts(run.id, {{"remote_cleaned", true}}));
  }
  return ok();
}

}  // namespace kbix
