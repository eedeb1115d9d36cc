// `kbix export password RUN` and `kbix export delivered RUN`: the operator's two steps of a
// municipal export, both through the daemon (which holds the keys and audits them).
#include <iostream>

#include "internal/cli_commands.hpp"
#include "kbix/core/exit_code.hpp"

namespace kbix::cli {

int export_password(const GlobalOptions& options, const ExportOptions& request) {
  int exit_code = kExitOk;
  ControlRequest ask = request_of(ControlCommand::export_password);
  ask.run_id = request.run_id;
  ask.channel = request.channel;
  ask.again = request.again;
  ask.reason = request.reason;
  auto answer = ask_daemon(options, ask, exit_code);
  if (!answer) return exit_code;
  // The value alone on stdout (for the operator's eyes, or a pipe to the SMS tool); the advice
  // on stderr, so it never travels with the value.
  std::cout << answer->value("password", "") << "\n";
  std::cerr << "kbix: the password of run " << request.run_id << "; send it by " << request.channel
            << " to the municipality's contact person, never with the file or in the same "
               "mail. This release is audited; a second one needs --again --reason.\n";
  return exit_code;
}

int export_delivered(const GlobalOptions& options, const ExportOptions& request) {
  int exit_code = kExitOk;
  ControlRequest ask = request_of(ControlCommand::export_delivered);
  ask.run_id = request.run_id;
  ask.channel = request.channel;
  ask.reference = request.reference;
  if (ask_daemon(options, ask, exit_code)) {
    std::cout << "recorded: run " << request.run_id << " delivered by " << request.channel
              << "; kbix removes its outbox copy (kbix status shows the run done)\n";
  }
  return exit_code;
}

}  // namespace kbix::cli
