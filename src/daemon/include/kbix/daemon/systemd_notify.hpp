// systemd notifications (sd_notify): READY, STATUS, RELOADING, STOPPING and the watchdog.
// All are no-ops when the process was not started by systemd (NOTIFY_SOCKET unset).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace kbix {

void notify_ready();
void notify_status(std::string_view status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
// Half of this is how often notify_watchdog() must be called; nullopt when no watchdog is set.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace kbix
