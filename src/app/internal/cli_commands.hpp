// The subcommands of `kbix` (internal to the app module; src/cli.cpp wires them to CLI11).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kbix/daemon/control_protocol.hpp"

namespace kbix::cli {

struct GlobalOptions {
  std::string config_file;
  std::string exchange;  // which exchange ("" = the only one, or every one where that makes sense)
  std::string log_level;
  bool json = false;
  bool check = false;  // status --check: one line for a monitoring system
};

struct RunOptions {
  std::string run_id;
  bool force = false;
  bool dry_run = false;  // run start: only validate the extract, change nothing
  std::string reason;
  bool start = false;             // run once: also start a new run
  int wait_seconds = 0;           // run once: keep polling for the return this long
  std::string request_reference;  // run start/once of an export on request (--request-ref)
};

// `kbix export password|delivered RUN` (cli_export.cpp).
struct ExportOptions {
  std::string run_id;
  std::string channel;
  bool again = false;
  std::string reason;
  std::string reference;
};

struct AuditOptionsCli {
  std::vector<std::string> log_files;
  std::string checkpoint_file;
  std::string certificate;
  std::string run_id;
  std::string against_file;
  bool against_journal = false;
  std::string journal_directory;
};

int check_config(const GlobalOptions& options);
int config_migrate(const GlobalOptions& options, bool dry_run);  // config_migrate.cpp
int keys_check(const GlobalOptions& options);
int check_remote(const GlobalOptions& options);  // check_remote.cpp
int daemon(const GlobalOptions& options);
int status(const GlobalOptions& options);
int status_check(const GlobalOptions& options);
int run_start(const GlobalOptions& options, const RunOptions& run);
int run_start_dry(const GlobalOptions& options);  // dry_run.cpp
int run_show(const GlobalOptions& options, const RunOptions& run);
int run_cancel(const GlobalOptions& options, const RunOptions& run);
int run_retry(const GlobalOptions& options, const RunOptions& run);
int run_once(const GlobalOptions& options, const RunOptions& run);
// Sends one request to the daemon; prints a refusal (and sets exit_code). The answer when ok.
std::optional<nlohmann::json> ask_daemon(const GlobalOptions& options,
                                         const ControlRequest& request, int& exit_code);
ControlRequest request_of(ControlCommand command);

int export_password(const GlobalOptions& options, const ExportOptions& request);
int export_delivered(const GlobalOptions& options, const ExportOptions& request);
int audit_verify(const GlobalOptions& options, const AuditOptionsCli& audit);
int audit_show(const GlobalOptions& options, const AuditOptionsCli& audit);

}  // namespace kbix::cli
