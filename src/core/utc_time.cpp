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

// strftime's %a and %b follow the C locale, which kbix never changes: English, as RFC 5322 asks.
std::string utc_formatted(std::chrono::system_clock::time_point when, UtcShape shape) {
  const std::tm utc = utc_parts(when);
  char text[64];
  std::size_t length = 0;
  switch (shape) {
    case UtcShape::date:
      length = std::strftime(text, sizeof text, "%Y-%m-%d", &utc);
      break;
    case UtcShape::compact:
      length = std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
      break;
    case UtcShape::readable:
      length = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
      break;
    case UtcShape::rfc5322:
      length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &utc);
      break;
  }
  return std::string(text, length);
}

std::string utc_timestamp(std::chrono::system_clock::time_point when) {
  const std::tm utc = utc_parts(when);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(text, length);
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
