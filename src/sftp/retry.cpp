#include "kbix/sftp/retry.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

namespace kbix {

// Both read the registry's retry meaning (kbix/core/error_codes.hpp): an unknown code never
// retries, so a new failure kind is never retried by accident.
bool is_transient(const Error& error) {
  return error.retry() == Retry::call;
}

bool is_retryable_failure(const Error& error) {
  return error.retry() != Retry::never;
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
