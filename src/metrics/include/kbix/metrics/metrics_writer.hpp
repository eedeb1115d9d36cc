// MetricsWriter: after every state change, rewrites <textfile_dir>/kbix.prom (atomically, mode
// 0644) for node_exporter's textfile collector. Metrics, all gauges, labelled protocol="<id>":
//   kbix_newest_run_state{state}            1 for the newest run's state, 0 for the others
//   kbix_newest_run_overdue                 1 while the newest run waits past its deadline
//   kbix_newest_run_start_timestamp_seconds
//   kbix_last_finished_run_rows{count}     rows, exported, invalid_insz, returned, matched, ...
//   kbix_last_finished_run_timestamp_seconds
//   kbix_last_successful_poll_timestamp_seconds   a dead-man's switch: it must keep moving
//   kbix_last_return_timestamp_seconds, kbix_last_publication_timestamp_seconds
//   kbix_certificate_expiry_timestamp_seconds{certificate}
//   kbix_audit_last_checkpoint_timestamp_seconds
// The three "last ..." times survive restarts in <state_dir>/metrics-state.json. No value in the
// file is personal: states, counts, times, certificate labels.
//
// Thread-safe (one mutex; its own run-store connection). Does NOT guarantee the file is fresh
// while no state changes: alert on the poll timestamp, not on the file's age.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kbix/config/config.hpp"
#include "kbix/exchange/exchange_observer.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix {

class MetricsWriter final : public ExchangeObserver {
 public:
  // One file for every exchange of the process (`exchanges`, each with the daemon-wide settings);
  // each sample is labelled with its exchange and protocol. Errors: those of RunStore::open.
  // Writes the file once at start.
  static Result<std::unique_ptr<MetricsWriter>> start(std::vector<Config> exchanges);

  void on_exchange_notice(const ExchangeNotice& notice) noexcept override;
  void replace_config(std::vector<Config> exchanges);

  // Rewrites kbix.prom now. Errors: io.* (the directory is missing or not writable).
  Status write();

  std::filesystem::path file() const;

 private:
  struct Times {
    std::int64_t last_poll = 0;
    std::int64_t last_return = 0;
    std::int64_t last_publication = 0;
  };
  MetricsWriter(std::vector<Config> exchanges, RunStore store)
      : exchanges_(std::move(exchanges)), store_(std::move(store)) {}
  void load_times();
  void save_times() const;
  Status write_locked();
  const Config& daemon_wide() const { return exchanges_.front(); }

  std::mutex mutex_;
  std::vector<Config> exchanges_;  // never empty
  RunStore store_;
  std::map<std::string, Times> times_;  // per exchange
};

}  // namespace kbix
