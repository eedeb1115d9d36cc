#include "kbix/core/utc_time.hpp"

#include <cstdio>
#include <ctime>

namespace kbix {

namespace {
std::tm utc_parts(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return utc;
}
}  // namespace

std::string utc_timestamp(std::chrono::system_clock::time_point when) {
  const std::tm utc = utc_parts(when);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string utc_timestamp_millis(std::chrono::system_clock::time_point when) {
  const std::tm utc = utc_parts(when);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return text;
}

}  // namespace kbix
