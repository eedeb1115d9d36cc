// systemd notifications (sd_notify): READY, STATUS, RELOADING, STOPPING and the watchdog;
// socket activation (sd_listen_fds).
// All are no-ops when the process was not started by systemd (NOTIFY_SOCKET unset).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

void notify_ready();
void notify_status(std::string_view status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
// The listening control socket systemd passed (socket activation, kbix.socket), if any: one
// AF_UNIX stream socket listening on `expected_path`. nullopt when none was passed. Errors:
// "config.socket" (more than one, another kind, another path than the configuration's).
Result<std::optional<int>> inherited_listening_socket(const std::filesystem::path& expected_path);
// Half of this is how often notify_watchdog() must be called; nullopt when no watchdog is set.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace kbix
