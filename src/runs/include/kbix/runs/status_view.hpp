// StatusView: runs as JSON (the control socket's answers) and as text for operators.
//
// Only run ids, states, times, counts, file names, sizes and hashes: a status never holds
// personal data, so it may be pasted into a ticket.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kbix/config/config.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix {

nlohmann::json run_to_json(const RunRecord& run);

// One configured exchange as `kbix status` shows it.
struct ExchangeStatus {
  std::string name;
  std::string protocol_id;
  std::string source;  // inbox folder; "" = the inbox itself
  bool ended = false;  // the protocol's validity has ended: it never runs again
  std::optional<std::string> next_scheduled_run;
  std::optional<std::string> review_date;  // open-ended protocols
};
ExchangeStatus exchange_status(const Config& config, const RunStore& store,
                               std::chrono::system_clock::time_point now);

// {"runs":[...], "exchanges":[...], "next_scheduled_run": the earliest of the exchanges'|null}
nlohmann::json status_to_json(const std::vector<RunRecord>& runs,
                              const std::vector<ExchangeStatus>& exchanges);

// The day of the exchange's newest run that sent data (the cadence counts from it), if any.
std::optional<std::chrono::sys_days> last_run_day(const RunStore& store, std::string_view exchange);

// The exchange's next scheduled run ("2027-03-03T00:00:00Z") after the schedule rule
// (schedule.hpp) and its last run that sent data; nullopt when none is left in the protocol's
// validity window. The daemon and `kbix status` without a daemon both answer with it.
std::optional<std::string> next_scheduled_run_utc(const Config& config, const RunStore& store,
                                                  std::chrono::system_clock::time_point now);

// One block per exchange (when there are several), one per run: state, since, progress, counts,
// overdue, failure and how to go on.
std::string format_status(const nlohmann::json& status);
std::string format_run(const nlohmann::json& run);

// `kbix status --check`: one line and a monitoring-plugins exit code (0 OK, 1 WARNING, 2 CRITICAL;
// kMonitoring* in kbix/core/exit_code.hpp) for Icinga, Nagios or node_exporter.
struct MonitoringInput {
  std::optional<nlohmann::json> status;           // the daemon's status answer; nullopt: no daemon
  std::string unreachable;                        // why there is no answer
  std::vector<std::string> certificate_problems;  // expiring within the warning period, ...
  std::optional<bool> audit_intact;               // nullopt: not checked (log not readable)
  std::string audit_problem;
};
struct MonitoringResult {
  int exit_code = 0;
  std::string line;  // "KBIX OK - ... | runs=3 failed=0 overdue=0"
};
// CRITICAL: no daemon, a failed run newer than the newest finished one of its exchange, a broken
// audit chain.
// WARNING: an overdue run, a certificate problem. Else OK.
MonitoringResult monitoring_check(const MonitoringInput& input);

}  // namespace kbix
