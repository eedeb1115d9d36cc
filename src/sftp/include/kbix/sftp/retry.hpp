// Retry policy for transfers: capped exponential backoff with jitter.
//
// Only failures whose code the registry marks Retry::call (a timeout, a lost or refused
// connection: kbix/core/error_codes.hpp) are retried. Authentication, host-key, "already exists",
// bad-name and local I/O failures are returned at once: retrying them cannot help and, for
// authentication, would look like an attack to the partner.
//
// Does NOT guarantee: idempotence of the operation retried (the caller's operation must be safe
// to repeat, as SftpClient::upload is: it never overwrites a final name), nor any bound on the
// total wall time other than max_attempts × (max_delay + operation time).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>

#include "kbix/core/result.hpp"

namespace kbix {

struct RetryPolicy {
  int max_attempts = 5;  // including the first one
  std::chrono::milliseconds initial_delay{2000};
  std::chrono::milliseconds max_delay{120000};
  double multiplier = 2.0;
  double jitter = 0.25;  // each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
};

// True for error codes worth another attempt at once (Retry::call in the registry:
// "sftp.timeout", "sftp.connection_lost", "sftp.connect_failed"). Everything else is permanent.
bool is_transient(const Error& error);

// True for failures a run step may be retried after (Retry::call or Retry::step in the
// registry): transient transport failures and passing local I/O failures (a full disk:
// io.write, io.sync, io.create, io.rename, io.commit). The one rule the engine uses to mark a
// failed run retryable.
bool is_retryable_failure(const Error& error);

// The delay before attempt `attempt + 1` (attempt counts from 1). `unit_random` is in [0, 1):
// passed in so the schedule is testable; the caller draws it.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double unit_random);

using RetrySleeper = std::function<void(std::chrono::milliseconds)>;
// Sleeps on the calling thread.
void sleep_for_retry(std::chrono::milliseconds delay);

// Runs `operation(attempt)` until it succeeds, fails permanently, or max_attempts is used up;
// returns the last result. `sleep` is called between attempts (tests pass a recorder).
template <class Operation>
auto with_retry(const RetryPolicy& policy, Operation&& operation,
                const RetrySleeper& sleep = sleep_for_retry) -> decltype(operation(1)) {
  std::mt19937_64 random_engine{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int attempt = 1;; ++attempt) {
    auto result = operation(attempt);
    if (result || attempt >= policy.max_attempts || !is_transient(result.error())) return result;
    sleep(backoff_delay(policy, attempt, unit(random_engine)));
  }
}

}  // namespace kbix
