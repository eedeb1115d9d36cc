#include "internal/cli_commands.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "kbix/app/cli.hpp"
#include "kbix/audit/audit_verify.hpp"
#include "kbix/core/config.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/daemon/control_protocol.hpp"
#include "kbix/daemon/control_socket.hpp"
#include "kbix/daemon/daemon.hpp"
#include "kbix/daemon/operations.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/instance.hpp"
#include "kbix/runs/status_view.hpp"

namespace kbix::cli {

namespace {

// Loads the configuration and sets up logging; prints the error and returns nullopt on failure.
std::optional<Config> load(const GlobalOptions& options) {
  auto config = load_config(options.config_file);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return std::nullopt;
  }
  const std::string level =
      options.log_level.empty() ? config->daemon.log_level : options.log_level;
  if (auto logging = setup_logging(level); !logging) {
    std::cerr << "kbix: " << logging.error().describe() << "\n";
    return std::nullopt;
  }
  return std::move(*config);
}

// Sends one request to the daemon; prints a refusal. Returns the answer when ok.
std::optional<nlohmann::json> ask_daemon(const GlobalOptions& options,
                                         const ControlRequest& request, int& exit_code) {
  auto config = load(options);
  if (!config) {
    exit_code = kExitConfig;
    return std::nullopt;
  }
  auto answer =
      send_control_request(config->daemon.control_socket, request, std::chrono::seconds(30));
  if (!answer) {
    std::cerr << "kbix: " << answer.error().describe() << "\n";
    if (answer.error().code == "control.unreachable") {
      std::cerr << "  is the daemon running? (systemctl status kbix); without it use "
                   "`kbix run once`\n";
    }
    exit_code = kExitFailure;
    return std::nullopt;
  }
  if (!answer->value("ok", false)) {
    const Error refusal = Error::from_text(answer->value("error", "control.refused"),
                                           answer->value("message", "refused"));
    std::cerr << "kbix: " << refusal.describe() << "\n";
    exit_code = kExitFailure;
    return std::nullopt;
  }
  exit_code = kExitOk;
  return std::move(*answer);
}

ControlRequest request_of(ControlCommand command) {
  ControlRequest request;
  request.command = command;
  return request;
}

void print(const GlobalOptions& options, const nlohmann::json& json, const std::string& text) {
  if (options.json) {
    std::cout << dump_json(json, 2) << "\n";
  } else {
    std::cout << text;
  }
}

}  // namespace

int check_config(const GlobalOptions& options) {
  auto config = load_config(options.config_file);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return kExitConfig;
  }
  const Protocol& protocol = config->protocol;
  std::cout << "configuration OK: " << config->file.string() << "\n"
            << "  protocol " << protocol.id << " (" << protocol.partner << "), valid "
            << format_date(protocol.valid_from) << " until " << format_date(protocol.valid_until)
            << ", every " << protocol.cadence_months << " months, retention "
            << protocol.retention_years << " years, pseudonym " << to_string(protocol.pseudonym)
            << "\n";
  for (const auto& warning : config_warnings(*config)) {
    std::cout << "  warning: " << warning << "\n";
  }
  return kExitOk;
}

// A private key that is kbix.service's credential and that this user cannot read (an operator)
// is not checked here: the daemon checks it at every start and reload (and refuses to start).
static bool held_by_the_service(const std::filesystem::path& key) {
  return is_service_credential(key) && ::access(key.c_str(), R_OK) != 0;
}

int keys_check(const GlobalOptions& options) {
  auto config = load(options);
  if (!config) return kExitConfig;
  auto items = key_check_items(*config);
  std::vector<std::string> skipped;
  for (auto& item : items) {
    if (item.private_key && held_by_the_service(*item.private_key)) {
      skipped.push_back(item.label + ": private key " + item.private_key->string());
      item.private_key.reset();
    }
  }
  const auto report =
      check_keys(items, config->keys.key_passphrase_file, config->keys.expiry_warning_days);
  std::cout << report.to_text();
  for (const auto& line : skipped) {
    std::cout << "SKIP " << line
              << ": a credential of kbix.service, not readable here (the daemon checks it)\n";
  }
  Status secrets = ok();
  if (skipped.empty()) secrets = check_secret_files(*config);
  if (!secrets) std::cout << "FAIL " << secrets.error().describe() << "\n";
  return report.ok() && secrets ? kExitOk : kExitFailure;
}

int daemon(const GlobalOptions& options) {
  auto config = load(options);
  if (!config) return kExitConfig;
  return run_daemon(DaemonOptions{options.config_file});
}

// Without a daemon (kbix driven by `run once` from a timer), status reads the run database.
static std::optional<nlohmann::json> status_from_database(const GlobalOptions& options) {
  auto config = load_config(options.config_file);
  if (!config) return std::nullopt;
  const auto file = config->daemon.state_dir / "runs.sqlite3";
  if (::access(file.c_str(), R_OK) != 0) return std::nullopt;
  auto store = RunStore::open(file);
  if (!store) return std::nullopt;
  auto runs = store->list();
  if (!runs) return std::nullopt;
  return status_to_json(*runs,
                        next_scheduled_run_utc(*config, *store, std::chrono::system_clock::now()));
}

int status(const GlobalOptions& options) {
  int exit_code = kExitOk;
  auto answer = ask_daemon(options, request_of(ControlCommand::status), exit_code);
  if (!answer && exit_code == kExitFailure) {
    if (auto offline = status_from_database(options)) {
      std::cerr << "kbix: (the daemon is not running; read from the run database)\n";
      print(options, *offline, format_status(*offline));
      return kExitOk;
    }
  }
  if (answer) print(options, *answer, format_status(*answer));
  return exit_code;
}

int status_check(const GlobalOptions& options) {
  auto config = load_config(options.config_file);
  if (!config) {
    std::cout << "KBIX UNKNOWN - " << config.error().describe() << "\n";
    return kMonitoringUnknown;
  }
  (void)setup_logging("off");
  MonitoringInput input;
  auto answer = send_control_request(config->daemon.control_socket,
                                     request_of(ControlCommand::status), std::chrono::seconds(30));
  if (answer && answer->value("ok", false)) {
    input.status = std::move(*answer);
  } else {
    input.unreachable = answer ? answer->value("error", "refused") : answer.error().code;
  }
  auto certificates = key_check_items(*config);
  for (auto& item : certificates) item.private_key.reset();  // public files: anyone may check
  for (const auto& line :
       check_keys(certificates, std::nullopt, config->keys.expiry_warning_days).lines) {
    if (!line.ok) input.certificate_problems.push_back(line.label + " needs attention");
  }
  // The audit log is the service's (0600): checked when this user can read it (root, kbix).
  const auto audit_dir = config->daemon.state_dir / "audit";
  if (::access(audit_dir.c_str(), R_OK | X_OK) == 0) {
    AuditVerifyOptions verify;
    verify.directory = audit_dir;
    verify.certificate = config->keys.signing_certificate;
    const auto report = verify_audit(verify);
    input.audit_intact = report.ok;
    input.audit_problem = report.error_code;
  }
  const auto result = monitoring_check(input);
  std::cout << result.line << "\n";
  return result.exit_code;
}

int run_start(const GlobalOptions& options, const RunOptions& run) {
  int exit_code = kExitOk;
  ControlRequest request = request_of(ControlCommand::run_start);
  request.force = run.force;
  request.reason = run.reason;
  auto answer = ask_daemon(options, request, exit_code);
  if (answer) {
    std::cout << "started " << (*answer)["run"].value("id", "")
              << "; follow it with: kbix status\n";
  }
  return exit_code;
}

int run_show(const GlobalOptions& options, const RunOptions& run) {
  int exit_code = kExitOk;
  ControlRequest request = request_of(ControlCommand::run_show);
  request.run_id = run.run_id;
  auto answer = ask_daemon(options, request, exit_code);
  if (answer) print(options, (*answer)["run"], format_run((*answer)["run"]));
  return exit_code;
}

int run_cancel(const GlobalOptions& options, const RunOptions& run) {
  int exit_code = kExitOk;
  ControlRequest request = request_of(ControlCommand::run_cancel);
  request.run_id = run.run_id;
  request.reason = run.reason;
  if (auto answer = ask_daemon(options, request, exit_code)) {
    if (answer->value("pending", false)) {
      std::cout << "cancel of " << run.run_id << " recorded and audited; it takes effect when the "
                << "step under way has committed (kbix status shows it)\n";
    } else {
      std::cout << "cancelled " << run.run_id << "\n";
    }
  }
  return exit_code;
}

int run_retry(const GlobalOptions& options, const RunOptions& run) {
  int exit_code = kExitOk;
  ControlRequest request = request_of(ControlCommand::run_retry);
  request.run_id = run.run_id;
  if (ask_daemon(options, request, exit_code)) std::cout << "resuming " << run.run_id << "\n";
  return exit_code;
}

int run_once(const GlobalOptions& options, const RunOptions& run) {
  if (!load(options)) return kExitConfig;
  auto instance = Instance::open(options.config_file, "run-once", current_user_actor());
  if (!instance) {
    std::cerr << "kbix: " << instance.error().describe() << "\n";
    return exit_code_for(instance.error());
  }
  Instance& self = **instance;
  Exchange exchange(self.config(), self.store(), self.audit());
  auto ops = Operations::start(self, false);
  exchange.set_observer(ops->observer());
  int exit_code = kExitOk;
  if (run.start) {
    auto started =
        exchange.start_run(StartRequest{self.actor(), "operator", run.force, run.reason});
    if (!started) {
      std::cerr << "kbix: " << started.error().describe() << "\n";
      exit_code = exit_code_for(started.error());
    } else {
      std::cout << "started " << started->id << "\n";
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(run.wait_seconds);
  for (;;) {
    if (auto ticked = exchange.tick(); !ticked) {
      std::cerr << "kbix: " << ticked.error().describe() << "\n";
      exit_code = std::max(exit_code, exit_code_for(ticked.error()));
    }
    auto unfinished = self.store().unfinished();
    const bool waiting = unfinished && !unfinished->empty();
    if (!waiting || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        self.config().sftp.poll_interval, deadline - std::chrono::steady_clock::now()));
  }
  (void)exchange.purge_expired();
  ops->after_tick();
  ops->stop();
  auto runs = self.store().list();
  if (runs) {
    for (const auto& record : *runs) {
      if (record.state == RunState::failed && !record.failure_code.empty()) {
        exit_code = std::max(exit_code, kExitFailure);  // a failed run is a runtime failure
      }
    }
    std::cout << format_status(status_to_json(*runs, std::nullopt));
  }
  (void)self.close("run once finished");
  return exit_code;
}

int audit_verify(const GlobalOptions& options, const AuditOptionsCli& audit) {
  AuditVerifyOptions verify;
  auto config = load_config(options.config_file);
  if (config) {
    verify.directory = config->daemon.state_dir / "audit";
    verify.certificate = config->keys.signing_certificate;
    verify.checkpoint_every = static_cast<std::uint64_t>(config->audit.checkpoint_every);
  } else if (audit.log_files.empty()) {
    std::cerr << "kbix: " << config.error().describe() << "\n  (or name the files: --log FILE "
              << "--checkpoint FILE --certificate FILE)\n";
    return kExitConfig;
  }
  for (const auto& file : audit.log_files) verify.log_files.emplace_back(file);
  if (!audit.checkpoint_file.empty()) verify.checkpoint_file = audit.checkpoint_file;
  if (!audit.certificate.empty()) verify.certificate = audit.certificate;
  if (!audit.against_file.empty()) verify.against_file = audit.against_file;
  verify.against_journal = audit.against_journal;
  if (!audit.journal_directory.empty()) verify.journal_directory = audit.journal_directory;
  const auto report = verify_audit(verify);
  if (report.ok) {
    std::cout << "audit log intact: " << report.entries << " entries, " << report.checkpoints
              << " signed checkpoints verified";
    if (verify.against_file || verify.against_journal) {
      std::cout << ", " << report.copy_checkpoints << " checkpoints of the copy found in it";
    }
    std::cout << "\n";
    return kExitOk;
  }
  std::cout << "audit log NOT intact: " << report.first_problem << " [" << report.error_code
            << "]\n";
  return kExitFailure;
}

int audit_show(const GlobalOptions& options, const AuditOptionsCli& audit) {
  AuditVerifyOptions source;
  auto config = load_config(options.config_file);
  if (config) {
    source.directory = config->daemon.state_dir / "audit";
  } else if (audit.log_files.empty()) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return kExitConfig;
  }
  for (const auto& file : audit.log_files) source.log_files.emplace_back(file);
  std::cout << format_entries(
      source, audit.run_id.empty() ? std::nullopt : std::optional<std::string>(audit.run_id));
  return kExitOk;
}

}  // namespace kbix::cli
