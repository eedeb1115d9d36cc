// UTC timestamps as kbix writes them everywhere (run database, audit log, manifests, status):
// ISO 8601 with a Z, whole seconds ("2026-11-22T13:55:00Z") or milliseconds for the audit log.
#pragma once

#include <chrono>
#include <string>

namespace kbix {

std::string utc_timestamp(std::chrono::system_clock::time_point when);
std::string utc_timestamp_millis(std::chrono::system_clock::time_point when);
// The other shapes kbix shows a UTC time in (whole seconds; month and day names in English).
enum class UtcShape {
  date,      // 2026-11-22 (notices)
  compact,   // 20261122T135500Z (run ids)
  readable,  // 2026-11-22 13:55:00Z (evidence reports)
  rfc5322,   // Sun, 22 Nov 2026 13:55:00 +0000 (an e-mail's Date header)
};
std::string utc_formatted(std::chrono::system_clock::time_point when, UtcShape shape);

}  // namespace kbix
