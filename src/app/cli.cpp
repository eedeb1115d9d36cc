#include "kbix/app/cli.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "internal/cli_commands.hpp"
#include "internal/cli_reports.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix_version.hpp"

namespace kbix {
namespace {

constexpr const char* kFooter =
    R"(Exit codes: 0 success, 1 runtime failure, 2 bad usage, 78 configuration error (EX_CONFIG:
the configuration, protocol file or a key is missing or invalid; kbix.service does not restart).
`kbix status --check`: 0 OK, 1 WARNING (overdue run, certificate in its warning period),
2 CRITICAL (failed run, broken audit chain, daemon not running), 3 UNKNOWN (no configuration).
The configuration file defaults to $KBIX_CONFIG, else /etc/kbix/kbix.toml.
Operators: `kbix status` shows every exchange and its runs; `kbix run start EXCHANGE` asks the
daemon for a run. Exchanges are files in /etc/kbix/exchanges.d (`kbix check-config` checks them).
Documentation: man kbix, man kbix.toml, /usr/share/doc/kbix (docs/operator-guide.md).)";

std::string default_config_path() {
  const char* from_env = std::getenv("KBIX_CONFIG");
  return from_env != nullptr && *from_env != '\0' ? from_env : "/etc/kbix/kbix.toml";
}

}  // namespace

int run_cli(int argc, char** argv) {
  // A peer closing the SFTP socket must be an error value, not a killed process.
  ::signal(SIGPIPE, SIG_IGN);
  ::umask(0077);  // everything kbix writes is private unless it says otherwise

  CLI::App app{
      "kbix " KBIX_VERSION
      " - secure file exchange for AgII's data-sharing protocols.\n"
      "Sends VDAB an encrypted file of national register numbers, takes back the enriched\n"
      "return, merges and pseudonymises it for the monitoring team, and audits every step.",
      "kbix"};
  app.footer(kFooter);
  app.set_version_flag("--version", "kbix " KBIX_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand

  cli::GlobalOptions options;
  options.config_file = default_config_path();
  app.add_option("-c,--config", options.config_file, "configuration file (TOML)")
      ->capture_default_str();
  app.add_option("-e,--exchange", options.exchange,
                 "the exchange a command is about (a file name of exchanges.d without .toml); "
                 "needed only when several are configured");
  app.add_option("--log-level", options.log_level,
                 "trace, debug, info, warn, error, critical, off (overrides the configuration)");

  int exit_code = kExitOk;
  auto* check = app.add_subcommand(
      "check-config", "check the configuration file and the protocol it names, then exit");
  check->callback([&] { exit_code = cli::check_config(options); });

  auto* config_command = app.add_subcommand("config", "work on the configuration files");
  config_command->require_subcommand(1);
  bool migrate_dry_run = false;
  auto* migrate = config_command->add_subcommand(
      "migrate",
      "move the exchange of a single-exchange kbix.toml ([protocol], [schedule], [partner], "
      "[sftp]) into exchanges.d/<name>.toml and rewrite kbix.toml without it (the old file is "
      "kept as kbix.toml.pre-migrate)");
  migrate->add_flag("--dry-run", migrate_dry_run, "print both new files, write nothing");
  migrate->callback([&] { exit_code = cli::config_migrate(options, migrate_dry_run); });

  app.add_subcommand("check-remote",
                     "preflight: connect (pinned host key, SSH key), check both remote directories "
                     "exist and are writable (a sealed probe written, renamed, removed), seal a "
                     "test envelope to the partner; one line per check, exit 0/1")
      ->callback([&] { exit_code = cli::check_remote(options); });
  auto* keys = app.add_subcommand("keys", "inspect keys and certificates");
  keys->require_subcommand(1);
  keys->add_subcommand("check",
                       "print fingerprint, subject, expiry and days left of every configured "
                       "key and certificate; fail when one expires within "
                       "keys.expiry_warning_days or a private key is readable by others")
      ->callback([&] { exit_code = cli::keys_check(options); });

  app.add_subcommand("daemon",
                     "run the exchange daemon: schedule, return polling and the control socket "
                     "(systemd: Type=notify)")
      ->callback([&] { exit_code = cli::daemon(options); });

  auto* status = app.add_subcommand("status", "show every exchange and its runs (asks the daemon)");
  status->add_option("EXCHANGE", options.exchange, "only this exchange");
  status->add_flag("--json", options.json, "print JSON instead of text");
  status
      ->add_flag("--check", options.check,
                 "one line and a monitoring-plugins exit code (0 OK, 1 WARNING, 2 CRITICAL, "
                 "3 UNKNOWN) for Icinga, Nagios or node_exporter")
      ->excludes("--json");
  status->callback(
      [&] { exit_code = options.check ? cli::status_check(options) : cli::status(options); });

  cli::RunOptions run_options;
  auto* run = app.add_subcommand("run", "start, follow and steer exchange runs");
  run->require_subcommand(1);
  auto* start = run->add_subcommand(
      "start", "ask the daemon to start a run with the KBI extract waiting in the inbox");
  auto add_force = [&](CLI::App* command) {
    auto* force = command->add_flag(
        "--force", run_options.force,
        "run outside the protocol's validity window or sooner than its cadence (audited)");
    command->add_option("--reason", run_options.reason, "why the run is forced (required)")
        ->needs(force);
  };
  start->add_option("EXCHANGE", options.exchange,
                    "the exchange to run (needed when several are configured)");
  add_force(start);
  auto add_request_reference = [&](CLI::App* command) {
    command->add_option("--request-ref", run_options.request_reference,
                        "the municipality's request reference (needed by an export on request, "
                        "such as Genk's art. 20 list; audited, no personal data)");
  };
  add_request_reference(start);
  start->add_flag("--dry-run", run_options.dry_run,
                  "only validate the extract in the inbox and print its counts (rows, valid, "
                  "invalid, duplicate); changes nothing");
  start->callback([&] {
    exit_code =
        run_options.dry_run ? cli::run_start_dry(options) : cli::run_start(options, run_options);
  });
  auto* show = run->add_subcommand("show", "show one run in detail");
  show->add_option("RUN_ID", run_options.run_id, "run id, e.g. 20261122T135500Z-3f9a")->required();
  show->add_flag("--json", options.json, "print JSON instead of text");
  show->callback([&] { exit_code = cli::run_show(options, run_options); });
  auto* cancel = run->add_subcommand("cancel", "cancel an unfinished run (audited)");
  cancel->add_option("RUN_ID", run_options.run_id, "run id")->required();
  cancel->add_option("--reason", run_options.reason, "why it is cancelled")->required();
  cancel->callback([&] { exit_code = cli::run_cancel(options, run_options); });
  auto* retry = run->add_subcommand("retry", "resume a run that failed for a passing reason");
  retry->add_option("RUN_ID", run_options.run_id, "run id")->required();
  retry->callback([&] { exit_code = cli::run_retry(options, run_options); });
  auto* once = run->add_subcommand(
      "once",
      "without the daemon, in this process: advance every unfinished run as far as it goes now "
      "and poll once for returns (for a systemd timer or cron)");
  once->add_option("EXCHANGE", options.exchange, "only this exchange (default: every exchange)");
  once->add_flag("--start", run_options.start, "also start a new run (the rules of `run start`)");
  add_force(once);
  add_request_reference(once);
  once->add_option("--wait", run_options.wait_seconds,
                   "keep polling for the return up to SECONDS (default: poll once)")
      ->check(CLI::Range(0, 86400 * 60));
  once->callback([&] { exit_code = cli::run_once(options, run_options); });

  cli::ExportOptions export_options;
  auto* export_command = app.add_subcommand(
      "export", "municipal lists: release a list's password, record its delivery");
  export_command->require_subcommand(1);
  auto* password = export_command->add_subcommand(
      "password",
      "print the password of a list once, to send it to the municipality by another channel "
      "than the file (audited: who, when, which channel; never the value)");
  password->add_option("RUN_ID", export_options.run_id, "the export run")->required();
  password->add_option("--channel", export_options.channel, "how you send it")
      ->required()
      ->check(CLI::IsMember(password_channels()));
  auto* again = password->add_flag("--again", export_options.again,
                                   "release it a second time (needs --reason)");
  password->add_option("--reason", export_options.reason, "why it is released again (audited)")
      ->needs(again);
  password->callback([&] { exit_code = cli::export_password(options, export_options); });
  auto* delivered = export_command->add_subcommand(
      "delivered",
      "record that you delivered a list (uploaded it to the municipality's SharePoint, mailed "
      "or dropped it); kbix then removes its outbox copy");
  delivered->add_option("RUN_ID", export_options.run_id, "the export run")->required();
  delivered->add_option("--channel", export_options.channel, "how it was delivered")
      ->required()
      ->check(CLI::IsMember(delivery_channels()));
  delivered->add_option("--reference", export_options.reference,
                        "where to find it again, e.g. the SharePoint folder or a ticket "
                        "(audited, no personal data)");
  delivered->callback([&] { exit_code = cli::export_delivered(options, export_options); });

  cli::AuditOptionsCli audit_options;
  auto* audit = app.add_subcommand("audit", "check and read the tamper-evident audit log");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify",
      "recompute the hash chain and check the signed checkpoints; exit 0 when intact, "
      "otherwise 1 naming the first bad line");
  verify->add_option("--log", audit_options.log_files,
                     "log file(s) in order (default: every file in <state_dir>/audit)");
  verify->add_option("--checkpoint", audit_options.checkpoint_file,
                     "checkpoint file (default: <state_dir>/audit/checkpoints.jsonl)");
  verify->add_option("--certificate", audit_options.certificate,
                     "certificate that signs checkpoints (default: keys.signing_certificate)");
  verify->add_option("--against", audit_options.against_file,
                     "a copy of the checkpoints kept outside the state directory "
                     "([audit] checkpoint_copy): finds a cut of log and checkpoints together");
  verify->add_flag("--against-journal", audit_options.against_journal,
                   "the same against the copies in the system journal (KBIX_CHECKPOINT)");
  verify->add_option("--journal-directory", audit_options.journal_directory,
                     "read the journal files in this directory (default: the local journal)");
  verify->callback([&] { exit_code = cli::audit_verify(options, audit_options); });
  auto* show_audit = audit->add_subcommand("show", "print audit entries readably");
  show_audit->add_option("--run", audit_options.run_id, "only the entries of this run");
  show_audit->add_option("--log", audit_options.log_files, "log file(s) in order");
  show_audit->callback([&] { exit_code = cli::audit_show(options, audit_options); });

  cli::add_report_commands(app, *run, options, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);  // --help, --version
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace kbix
