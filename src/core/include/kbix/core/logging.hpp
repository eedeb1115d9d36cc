// Logging setup: spdlog to stderr, or to the journal when started by systemd.
//
// Under systemd ($JOURNAL_STREAM set) every line goes to the journal with sd_journal_send and
// carries structured fields: KBIX_EVENT (what happened: "run.upload", "daemon", ...), KBIX_RUN_ID
// (for a line about a run) and KBIX_ERROR (the error code, on failure), so that
// `journalctl -u kbix KBIX_RUN_ID=<id>` shows one run. The fields come from the innermost
// ScopedLogFields of the logging thread.
//
// What this does NOT do: filter personal data. The guard is in the types: an Insz formats as
// "<insz>", and messages are written to name files, lines and counts only (invariant 5).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix {

// `level`: trace, debug, info, warn, error, critical, off. Error code "config.value".
Status setup_logging(std::string_view level);

struct LogFields {
  std::string run_id;  // empty: not about one run
  std::string event;   // empty: inherit the enclosing scope's, else "daemon"
  std::string error;   // an error code, on failure
};

// Sets the fields of every line this thread logs while it lives; inner scopes inherit the run id
// of outer ones. Not copyable.
class ScopedLogFields {
 public:
  explicit ScopedLogFields(LogFields fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  LogFields previous_;
};

// The fields in force on this thread now (for tests and the journal sink).
const LogFields& current_log_fields();

// The journal entry of one line: "MESSAGE=...", "PRIORITY=n", "SYSLOG_IDENTIFIER=kbix",
// "KBIX_EVENT=...", then "KBIX_RUN_ID=..." and "KBIX_ERROR=..." when set.
std::vector<std::string> journal_fields(std::string_view message, int priority,
                                        const LogFields& fields);

}  // namespace kbix
