#include "kbix/runs/schedule.hpp"

namespace kbix {

using namespace std::chrono;

sys_days add_months(sys_days day, int months) {
  const year_month_day date{day};
  const year_month target = year_month{date.year(), date.month()} + std::chrono::months{months};
  const auto last = year_month_day_last{target.year(), month_day_last{target.month()}}.day();
  return sys_days{year_month_day{target.year(), target.month(), std::min(date.day(), last)}};
}

RunPermission check_run_allowed(const Protocol& protocol, std::optional<sys_days> last_run_day,
                                sys_days today) {
  if (protocol_ended(protocol, today)) {
    return {false, "schedule.protocol_ended",
            "protocol " + protocol.id + " ended on " + format_date(*protocol.valid_until) +
                "; it never runs again (retire the exchange, docs/operator-guide.md)"};
  }
  if (today < protocol.valid_from) {
    return {
        false, "schedule.outside_window",
        "protocol " + protocol.id + " allows runs from " + format_date(protocol.valid_from) +
            (protocol.valid_until ? " until (not including) " + format_date(*protocol.valid_until)
                                  : std::string(" (open end)")) +
            "; today is " + format_date(today)};
  }
  if (last_run_day) {
    const sys_days earliest = add_months(*last_run_day, protocol.cadence_months);
    if (today < earliest) {
      return {false, "schedule.too_soon",
              "the last run was on " + format_date(*last_run_day) + "; protocol " + protocol.id +
                  " allows one every " + std::to_string(protocol.cadence_months) +
                  " months, so not before " + format_date(earliest)};
    }
  }
  return {true, "", "within the protocol's validity window and cadence"};
}

std::optional<system_clock::time_point> next_scheduled_run(const ScheduleConfig& schedule,
                                                           const Protocol& protocol,
                                                           std::optional<sys_days> last_run_day,
                                                           system_clock::time_point now) {
  const sys_days today = floor<days>(now);
  const int first_year = static_cast<int>(year_month_day{today}.year());
  // An open-ended protocol: look as far ahead as any cadence allows.
  const int last_year = protocol.valid_until
                            ? static_cast<int>(year_month_day{*protocol.valid_until}.year())
                            : first_year + 11;
  std::optional<sys_days> best;
  for (int y = first_year; y <= last_year; ++y) {
    for (const auto& text : schedule.run_dates) {
      const unsigned m = static_cast<unsigned>(std::stoi(text.substr(0, 2)));
      const unsigned d = static_cast<unsigned>(std::stoi(text.substr(3, 2)));
      const sys_days candidate{year{y} / month{m} / day{d}};
      if (system_clock::time_point{candidate} < now && candidate != today) continue;
      if (!check_run_allowed(protocol, last_run_day, candidate).allowed) continue;
      if (!best || candidate < *best) best = candidate;
    }
    if (best) break;
  }
  if (!best) return std::nullopt;
  return system_clock::time_point{*best};
}

system_clock::time_point retention_cutoff(const Protocol& protocol, system_clock::time_point now) {
  const sys_days today = floor<days>(now);
  return system_clock::time_point{add_months(today, -12 * protocol.retention_years)} +
         (now - system_clock::time_point{today});
}

}  // namespace kbix
