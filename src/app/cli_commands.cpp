#include "internal/cli_commands.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "kbix/app/cli.hpp"
#include "kbix/audit/audit_verify.hpp"
#include "kbix/config/config.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/daemon/control_protocol.hpp"
#include "kbix/daemon/control_socket.hpp"
#include "kbix/daemon/daemon.hpp"
#include "kbix/daemon/operations.hpp"
#include "kbix/envelope/keys.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/exchange/instance.hpp"
#include "kbix/runs/status_view.hpp"

namespace kbix::cli {

namespace {

// Sets up logging at the configured level (or --log-level).
bool start_logging(const GlobalOptions& options, const Config& config) {
  const std::string level = options.log_level.empty() ? config.daemon.log_level : options.log_level;
  if (auto logging = setup_logging(level); !logging) {
    std::cerr << "kbix: " << logging.error().describe() << "\n";
    return false;
  }
  return true;
}

// The daemon-wide settings (whatever the exchanges): for the control socket and the audit log.
std::optional<Config> load_daemon_wide(const GlobalOptions& options) {
  auto site = load_site_config(options.config_file);
  if (!site) {
    std::cerr << "kbix: " << site.error().describe() << "\n";
    return std::nullopt;
  }
  if (!start_logging(options, site->base)) return std::nullopt;
  return std::move(site->base);
}

void print(const GlobalOptions& options, const nlohmann::json& json, const std::string& text) {
  if (options.json) {
    std::cout << dump_json(json, 2) << "\n";
  } else {
    std::cout << text;
  }
}

}  // namespace

// Sends one request to the daemon; prints a refusal. Returns the answer when ok.
std::optional<nlohmann::json> ask_daemon(const GlobalOptions& options,
                                         const ControlRequest& request, int& exit_code) {
  auto config = load_daemon_wide(options);
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

int check_config(const GlobalOptions& options) {
  auto site = load_site_config(options.config_file);
  if (!site) {
    std::cerr << "kbix: " << site.error().describe() << "\n";
    return kExitConfig;
  }
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  int problems = 0;
  std::cout << "configuration " << site->base.file.string() << ": " << site->exchanges.size()
            << " exchange(s)";
  if (!site->single_exchange_form) std::cout << " in " << site->base.daemon.exchanges_dir.string();
  std::cout << "\n";
  for (const auto& config : site->exchanges) {
    const Protocol& protocol = config.protocol;
    std::cout << "  exchange " << config.exchange.name << ": protocol " << protocol.id << " ("
              << protocol.partner << "), valid " << format_date(protocol.valid_from) << " until "
              << (protocol.valid_until ? format_date(*protocol.valid_until) : "an open end")
              << (protocol.review_date ? " (review " + format_date(*protocol.review_date) + ")"
                                       : std::string())
              << ", every " << protocol.cadence_months << " months, retention "
              << protocol.retention_years << " years, pseudonym " << to_string(protocol.pseudonym)
              << ", inbox " << config.inbox().string() << "\n";
    if (protocol_ended(protocol, today)) {
      ++problems;
      std::cout << "  ERROR " << config.exchange.file.string() << ": protocol " << protocol.id
                << " ended on " << format_date(*protocol.valid_until)
                << ": this exchange never runs again; retire it (move its file out of "
                << site->base.daemon.exchanges_dir.string()
                << " once its data is past retention, docs/operator-guide.md)\n";
    }
    for (const auto& warning : config_warnings(config)) {
      std::cout << "    warning: " << warning << "\n";
    }
  }
  for (const auto& refused : site->refused) {
    ++problems;
    std::cout << "  ERROR " << refused.error.describe() << "\n";
  }
  if (site->single_exchange_form) {
    std::cout << "  note: kbix.toml holds its exchange itself (the single-exchange form); "
                 "`kbix config migrate` moves it into "
              << site->base.daemon.exchanges_dir.string() << "\n";
  }
  if (problems > 0 || site->exchanges.empty()) {
    std::cout << "configuration NOT OK: " << problems << " problem(s)"
              << (site->exchanges.empty() ? ", no exchange" : "")
              << " (the daemon runs the other exchanges)\n";
    return kExitConfig;
  }
  std::cout << "configuration OK\n";
  return kExitOk;
}

// A private key that is kbix.service's credential and that this user cannot read (an operator)
// is not checked here: the daemon checks it at every start and reload (and refuses to start).
static bool held_by_the_service(const std::filesystem::path& key) {
  return is_service_credential(key) && ::access(key.c_str(), R_OK) != 0;
}

int keys_check(const GlobalOptions& options) {
  auto site = load_site_config(options.config_file);
  if (!site) {
    std::cerr << "kbix: " << site.error().describe() << "\n";
    return kExitConfig;
  }
  if (!start_logging(options, site->base)) return kExitConfig;
  bool all_ok = true;
  bool named = false;
  for (const auto& config : site->exchanges) {
    if (!options.exchange.empty() && config.exchange.name != options.exchange) continue;
    named = true;
    if (site->exchanges.size() > 1) std::cout << "exchange " << config.exchange.name << ":\n";
    auto items = key_check_items(config);
    std::vector<std::string> skipped;
    for (auto& item : items) {
      if (item.private_key && held_by_the_service(*item.private_key)) {
        skipped.push_back(item.label + ": private key " + item.private_key->string());
        item.private_key.reset();
      }
    }
    const auto report =
        check_keys(items, config.keys.key_passphrase_file, config.keys.expiry_warning_days);
    std::cout << report.to_text();
    for (const auto& line : skipped) {
      std::cout << "SKIP " << line
                << ": a credential of kbix.service, not readable here (the daemon checks it)\n";
    }
    Status secrets = ok();
    if (skipped.empty()) secrets = check_secret_files(config);
    if (!secrets) std::cout << "FAIL " << secrets.error().describe() << "\n";
    all_ok = all_ok && report.ok() && secrets;
  }
  if (!named) {
    auto missing = select_exchange(*site, options.exchange);
    std::cerr << "kbix: " << (missing ? std::string("no exchange") : missing.error().describe())
              << "\n";
    return kExitConfig;
  }
  return all_ok ? kExitOk : kExitFailure;
}

int daemon(const GlobalOptions& options) {
  auto config = load_daemon_wide(options);
  if (!config) return kExitConfig;
  return run_daemon(DaemonOptions{options.config_file});
}

// Without a daemon (kbix driven by `run once` from a timer), status reads the run database.
static std::optional<nlohmann::json> status_from_database(const GlobalOptions& options) {
  auto site = load_site_config(options.config_file);
  if (!site) return std::nullopt;
  const auto file = site->base.daemon.state_dir / "runs.sqlite3";
  if (::access(file.c_str(), R_OK) != 0) return std::nullopt;
  auto store = RunStore::open(file);
  if (!store) return std::nullopt;
  auto runs = store->list(options.exchange);
  if (!runs) return std::nullopt;
  std::vector<ExchangeStatus> exchanges;
  for (const auto& config : site->exchanges) {
    if (!options.exchange.empty() && config.exchange.name != options.exchange) continue;
    exchanges.push_back(exchange_status(config, *store, std::chrono::system_clock::now()));
  }
  return status_to_json(*runs, exchanges);
}

int status(const GlobalOptions& options) {
  int exit_code = kExitOk;
  ControlRequest request = request_of(ControlCommand::status);
  request.exchange = options.exchange;
  auto answer = ask_daemon(options, request, exit_code);
  if (!answer && exit_code == kExitFailure) {
    if (auto offline = status_from_database(options)) {
      std::cerr << "kbix: (the daemon is not running; read from the run database)\n";
      print(options, *offline, format_status(*offline));
      return kExitOk;
    }
  }
  if (answer) {
    std::string text = format_status(*answer);
    for (const auto& refused : answer->value("refused_exchanges", nlohmann::json::array())) {
      text += "REFUSED exchange file " + refused.value("file", "") + ": " +
              refused.value("message", "") + " [" + refused.value("code", "") + "]\n";
    }
    print(options, *answer, text);
  }
  return exit_code;
}

int status_check(const GlobalOptions& options) {
  auto site = load_site_config(options.config_file);
  if (!site) {
    std::cout << "KBIX UNKNOWN - " << site.error().describe() << "\n";
    return kMonitoringUnknown;
  }
  const Config* config = &site->base;
  (void)setup_logging("off");
  MonitoringInput input;
  auto answer = send_control_request(config->daemon.control_socket,
                                     request_of(ControlCommand::status), std::chrono::seconds(30));
  if (answer && answer->value("ok", false)) {
    input.status = std::move(*answer);
  } else {
    input.unreachable = answer ? answer->value("error", "refused") : answer.error().code;
  }
  for (const auto& exchange : site->exchanges) {
    auto certificates = key_check_items(exchange);
    for (auto& item : certificates) item.private_key.reset();  // public files: anyone may check
    for (const auto& line :
         check_keys(certificates, std::nullopt, exchange.keys.expiry_warning_days).lines) {
      if (!line.ok) {
        input.certificate_problems.push_back(
            (site->exchanges.size() > 1 ? exchange.exchange.name + ": " : "") + line.label +
            " needs attention");
      }
    }
  }
  for (const auto& refused : site->refused) {
    input.certificate_problems.push_back("exchange file " + refused.file.filename().string() +
                                         " refused [" + refused.error.code + "]");
  }
  // The audit log is the service's (0600): checked when this user can read it (root, kbix).
  const auto audit_dir = config->daemon.state_dir / "audit";
  if (::access(audit_dir.c_str(), R_OK | X_OK) == 0) {
    AuditVerifyOptions verify;
    verify.directory = audit_dir;
    verify.certificate = config->audit.signing_certificate;
    verify.previous_certificates = config->keys.previous_signing_certificates;
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
  request.exchange = options.exchange;
  request.force = run.force;
  request.reason = run.reason;
  request.request_reference = run.request_reference;
  auto answer = ask_daemon(options, request, exit_code);
  if (answer) {
    const std::string exchange = (*answer)["run"].value("exchange", "");
    std::cout << "started " << (*answer)["run"].value("id", "") << "; follow it with: kbix status "
              << exchange << "\n";
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
  if (!load_daemon_wide(options)) return kExitConfig;
  auto instance = Instance::open(options.config_file, "run-once", current_user_actor());
  if (!instance) {
    std::cerr << "kbix: " << instance.error().describe() << "\n";
    return exit_code_for(instance.error());
  }
  Instance& self = **instance;
  std::vector<Config> chosen;
  for (const auto& config : self.exchanges()) {
    if (options.exchange.empty() || config.exchange.name == options.exchange) {
      chosen.push_back(config);
    }
  }
  if (chosen.empty()) {
    auto missing = select_exchange(self.site(), options.exchange);
    std::cerr << "kbix: "
              << (missing ? std::string("no such exchange") : missing.error().describe()) << "\n";
    (void)self.close("run once: no such exchange");
    return kExitConfig;
  }
  auto ops = Operations::start(self, false);
  int exit_code = kExitOk;
  // Without a name, every exchange in turn (a timer drives them all).
  for (const Config& config : chosen) {
    Exchange exchange(config, self.store(), self.audit());
    exchange.set_observer(ops->observer(config.exchange.name));
    const std::string& name = config.exchange.name;
    if (run.start) {
      auto started = exchange.start_run(
          StartRequest{self.actor(), "operator", run.force, run.reason, run.request_reference});
      if (!started) {
        std::cerr << "kbix: " << name << ": " << started.error().describe() << "\n";
        exit_code = std::max(exit_code, exit_code_for(started.error()));
      } else {
        std::cout << "started " << started->id << "; exchange " << name << "\n";
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(run.wait_seconds);
    for (;;) {
      if (auto ticked = exchange.tick(); !ticked) {
        std::cerr << "kbix: " << name << ": " << ticked.error().describe() << "\n";
        exit_code = std::max(exit_code, exit_code_for(ticked.error()));
      }
      auto unfinished = self.store().unfinished(name);
      const bool waiting = unfinished && !unfinished->empty();
      if (!waiting || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          config.sftp.poll_interval, deadline - std::chrono::steady_clock::now()));
    }
    (void)exchange.purge_expired();
    ops->after_tick(name);
  }
  ops->stop();
  std::vector<ExchangeStatus> statuses;
  for (const auto& config : chosen) {
    statuses.push_back(exchange_status(config, self.store(), std::chrono::system_clock::now()));
  }
  auto runs = self.store().list(options.exchange);
  if (runs) {
    for (const auto& record : *runs) {
      if (record.state == RunState::failed && !record.failure_code.empty()) {
        exit_code = std::max(exit_code, kExitFailure);  // a failed run is a runtime failure
      }
    }
    std::cout << format_status(status_to_json(*runs, statuses));
  }
  (void)self.close("run once finished");
  return exit_code;
}

int audit_verify(const GlobalOptions& options, const AuditOptionsCli& audit) {
  AuditVerifyOptions verify;
  auto site = load_site_config(options.config_file);
  auto config = site ? Result<Config>(site->base) : Result<Config>(fail(site.error()));
  if (config) {
    verify.directory = config->audit.directory;
    verify.certificate = config->audit.signing_certificate;
    verify.previous_certificates = config->keys.previous_signing_certificates;
    verify.checkpoint_every = static_cast<std::uint64_t>(config->audit.checkpoint_every);
  } else if (audit.log_files.empty()) {
    std::cerr << "kbix: " << config.error().describe() << "\n  (or name the files: --log FILE "
              << "--checkpoint FILE --certificate FILE)\n";
    return kExitConfig;
  }
  for (const auto& file : audit.log_files) verify.log_files.emplace_back(file);
  if (!audit.checkpoint_file.empty()) verify.checkpoint_file = audit.checkpoint_file;
  if (!audit.certificate.empty()) {
    verify.certificate = audit.certificate;  // the one given replaces the configured ones
    verify.previous_certificates.clear();
  }
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
  auto site = load_site_config(options.config_file);
  auto config = site ? Result<Config>(site->base) : Result<Config>(fail(site.error()));
  if (config) {
    source.directory = config->audit.directory;
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
