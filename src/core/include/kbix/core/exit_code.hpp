// Exit codes of every kbix process (documented in `kbix --help` and docs/operator-guide.md).
//
//   0  success
//   1  runtime failure (a run failed, a check found a problem, the daemon is unreachable)
//   2  bad usage (unknown command or option)
//  78  configuration error (EX_CONFIG, sysexits.h): the configuration, protocol file or a key is
//      missing or invalid; kbix.service has RestartPreventExitStatus=78, so it fails once
// `kbix status --check` uses the monitoring-plugins codes instead (kMonitoring*).
//
// They live in core because both the command line and the daemon end a process with them.
#pragma once

#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 78;

inline constexpr int kMonitoringOk = 0;
inline constexpr int kMonitoringWarning = 1;
inline constexpr int kMonitoringCritical = 2;
inline constexpr int kMonitoringUnknown = 3;

// Whether an error code means "fix the configuration or a key file" (exit kExitConfig).
inline bool is_configuration_error(std::string_view code) {
  return code.starts_with("config.") || code.starts_with("security.") || code.starts_with("keys.");
}

// The one rule for the exit code of a process (the daemon's start, `kbix run once`) that ends on
// `error`: kExitConfig when the way out is fixing the configuration or a key, kExitFailure else.
inline int exit_code_for(const Error& error) {
  return is_configuration_error(error.code) ? kExitConfig : kExitFailure;
}

}  // namespace kbix
