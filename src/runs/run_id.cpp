#include "kbix/runs/run_id.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

#include "kbix/core/utc_time.hpp"

namespace kbix {

std::string make_run_id(std::chrono::system_clock::time_point now) {
  unsigned char random[2];
  if (RAND_bytes(random, sizeof random) != 1) throw std::runtime_error("RAND_bytes failed");
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "-%02x%02x", random[0], random[1]);
  return utc_formatted(now, UtcShape::compact) + suffix;
}

bool is_valid_run_id(std::string_view text) {
  static constexpr std::string_view kShape = "ddddddddTddddddZ-hhhh";
  if (text.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (kShape[i]) {
      case 'd':
        if (c < '0' || c > '9') return false;
        break;
      case 'h':
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        break;
      default:
        if (c != kShape[i]) return false;
    }
  }
  return true;
}

std::string outbound_remote_name(std::string_view protocol_id, std::string_view run_id) {
  return std::string(protocol_id) + "_" + std::string(run_id) + ".csv.p7m";
}

std::string return_remote_name(std::string_view protocol_id, std::string_view run_id) {
  return std::string(protocol_id) + "_" + std::string(run_id) + "-verrijkt.csv.p7m";
}

std::optional<std::string> run_id_from_return_name(std::string_view protocol_id,
                                                   std::string_view remote_name) {
  const std::string prefix = std::string(protocol_id) + "_";
  constexpr std::string_view kSuffix = "-verrijkt.csv.p7m";
  if (!remote_name.starts_with(prefix) || !remote_name.ends_with(kSuffix)) return std::nullopt;
  const auto id =
      remote_name.substr(prefix.size(), remote_name.size() - prefix.size() - kSuffix.size());
  if (!is_valid_run_id(id)) return std::nullopt;
  return std::string(id);
}

}  // namespace kbix
