#include "internal/cli_commands.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "kbix/app/cli.hpp"
#include "kbix/audit/audit_verify.hpp"
#include "kbix/core/config.hpp"
#include "kbix/core/logging.hpp"
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
    exit_code = kExitUsage;
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
    std::cerr << "kbix: " << answer->value("message", "refused") << " ["
              << answer->value("error", "control.refused") << "]\n";
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
    std::cout << json.dump(2) << "\n";
  } else {
    std::cout << text;
  }
}

}  // namespace

int check_config(const GlobalOptions& options) {
  auto config = load_config(options.config_file);
  if (!config) {
    std::cerr << "kbix: " << config.error().describe() << "\n";
    return kExitUsage;
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

int keys_check(const GlobalOptions& options) {
  auto config = load(options);
  if (!config) return kExitUsage;
  const auto report = check_keys(key_check_items(*config), config->keys.key_passphrase_file,
                                 config->keys.expiry_warning_days);
  std::cout << report.to_text();
  auto secrets = check_secret_files(*config);
  if (!secrets) std::cout << "FAIL " << secrets.error().describe() << "\n";
  return report.ok() && secrets ? kExitOk : kExitFailure;
}

int daemon(const GlobalOptions& options) {
  auto config = load(options);
  if (!config) return kExitUsage;
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
  return status_to_json(*runs, std::nullopt);
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
  if (ask_daemon(options, request, exit_code)) std::cout << "cancelled " << run.run_id << "\n";
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
  if (!load(options)) return kExitUsage;
  auto instance = Instance::open(options.config_file, "run-once", current_user_actor());
  if (!instance) {
    std::cerr << "kbix: " << instance.error().describe() << "\n";
    const auto& code = instance.error().code;
    return code.starts_with("config.") || code.starts_with("security.") ? kExitUsage : kExitFailure;
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
      exit_code = kExitFailure;
    } else {
      std::cout << "started " << started->id << "\n";
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(run.wait_seconds);
  for (;;) {
    if (auto ticked = exchange.tick(); !ticked) {
      std::cerr << "kbix: " << ticked.error().describe() << "\n";
      exit_code = kExitFailure;
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
      if (record.state == RunState::failed && record.failure_code.size() > 0) exit_code = 1;
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
  } else if (audit.log_files.empty()) {
    std::cerr << "kbix: " << config.error().describe() << "\n  (or name the files: --log FILE "
              << "--checkpoint FILE --certificate FILE)\n";
    return kExitUsage;
  }
  for (const auto& file : audit.log_files) verify.log_files.emplace_back(file);
  if (!audit.checkpoint_file.empty()) verify.checkpoint_file = audit.checkpoint_file;
  if (!audit.certificate.empty()) verify.certificate = audit.certificate;
  const auto report = verify_audit(verify);
  if (report.ok) {
    std::cout << "audit log intact: " << report.entries << " entries, " << report.checkpoints
              << " signed checkpoints verified\n";
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
    return kExitUsage;
  }
  for (const auto& file : audit.log_files) source.log_files.emplace_back(file);
  std::cout << format_entries(
      source, audit.run_id.empty() ? std::nullopt : std::optional<std::string>(audit.run_id));
  return kExitOk;
}

}  // namespace kbix::cli
