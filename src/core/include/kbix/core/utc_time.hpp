// UTC timestamps as kbix writes them everywhere (run database, audit log, manifests, status):
// ISO 8601 with a Z, whole seconds ("2026-11-22T13:55:00Z") or milliseconds for the audit log.
#pragma once

#include <chrono>
#include <string>

namespace kbix {

std::string utc_timestamp(std::chrono::system_clock::time_point when);
std::string utc_timestamp_millis(std::chrono::system_clock::time_point when);

}  // namespace kbix
