// Schedule: when the protocol lets a run happen (invariant 12) and when the next one is due.
//
// A run is allowed on `today` when valid_from <= today < valid_until and, if an earlier run sent
// data, at least cadence_months after that run's day (same day of the month, clamped to the
// month's end: Aug 31 + 6 months = Feb 28/29). Otherwise an operator must force it with a reason.
// Retention: data older than retention_years before now is purged.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kbix/config/config.hpp"
#include "kbix/core/protocol.hpp"

namespace kbix {

struct RunPermission {
  bool allowed = false;
  std::string code;  // "" when allowed; schedule.outside_window or schedule.too_soon
  std::string explanation;
};

RunPermission check_run_allowed(const Protocol& protocol,
                                std::optional<std::chrono::sys_days> last_run_day,
                                std::chrono::sys_days today);

// The first configured MM-DD (00:00 UTC) at or after `now` on which a run is allowed; nullopt when
// none is left in the validity window.
std::optional<std::chrono::system_clock::time_point> next_scheduled_run(
    const ScheduleConfig& schedule, const Protocol& protocol,
    std::optional<std::chrono::sys_days> last_run_day, std::chrono::system_clock::time_point now);

std::chrono::system_clock::time_point retention_cutoff(const Protocol& protocol,
                                                       std::chrono::system_clock::time_point now);

// `day` + `months`, the day clamped to the end of the target month.
std::chrono::sys_days add_months(std::chrono::sys_days day, int months);

}  // namespace kbix
