// Daemon: `kbix daemon`, the long-running form of the exchange (issue 6).
//
// One Boost.Asio io_context runs the signals, the timers (return polling, the six-monthly
// schedule, the systemd watchdog) and the operator control socket; the blocking work (SFTP, CMS,
// CSV) runs on one worker thread with its own Exchange, so the control socket answers while an
// upload is under way. SIGTERM/SIGINT stop at the next safe point between two steps; SIGHUP
// reloads the configuration. Under systemd it reports READY/STATUS/STOPPING and feeds the
// watchdog.
//
// Does NOT guarantee: an immediate stop during a long transfer (the current step finishes or
// hits its SFTP deadline first; systemd's TimeoutStopSec bounds it).
#pragma once

#include <filesystem>

namespace kbix {

struct DaemonOptions {
  std::filesystem::path config_file;
};

// Returns the process exit code (0 clean stop, 1 runtime failure, 2 configuration refused).
int run_daemon(const DaemonOptions& options);

}  // namespace kbix
