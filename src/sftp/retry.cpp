#include "kbix/sftp/retry.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <thread>

namespace kbix {

bool is_transient(const Error& error) {
  // An allowlist: an unknown code is permanent, so a new failure kind is never retried by accident.
  static constexpr std::array<std::string_view, 3> kTransient = {
      "sftp.timeout", "sftp.connection_lost", "sftp.connect_failed"};
  return std::find(kTransient.begin(), kTransient.end(), error.code) != kTransient.end();
}

bool is_retryable_failure(const Error& error) {
  static constexpr std::array<std::string_view, 5> kPassingLocal = {
      "io.write", "io.sync", "io.create", "io.rename", "io.commit"};
  return is_transient(error) ||
         std::find(kPassingLocal.begin(), kPassingLocal.end(), error.code) != kPassingLocal.end();
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        double unit_random) {
  const double base = static_cast<double>(policy.initial_delay.count());
  const double cap = static_cast<double>(policy.max_delay.count());
  const double exponent = std::max(0, attempt - 1);
  const double uncapped = base * std::pow(std::max(1.0, policy.multiplier), exponent);
  const double capped = std::min(cap, uncapped);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double factor = 1.0 - jitter + 2.0 * jitter * std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(capped * factor)));
}

void sleep_for_retry(std::chrono::milliseconds delay) {
  std::this_thread::sleep_for(delay);
}

}  // namespace kbix
