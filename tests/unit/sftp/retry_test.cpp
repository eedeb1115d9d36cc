#include "kbix/sftp/retry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace kbix {
namespace {

using std::chrono::milliseconds;

RetryPolicy fast_policy() {
  RetryPolicy policy;
  policy.max_attempts = 4;
  policy.initial_delay = milliseconds(100);
  policy.max_delay = milliseconds(250);
  policy.multiplier = 2.0;
  policy.jitter = 0.0;
  return policy;
}

TEST(Retry, TransientCodesOnly) {
  EXPECT_TRUE(is_transient({"sftp.timeout", ""}));
  EXPECT_TRUE(is_transient({"sftp.connection_lost", ""}));
  EXPECT_TRUE(is_transient({"sftp.connect_failed", ""}));
  EXPECT_FALSE(is_transient({"sftp.auth_failed", ""}));
  EXPECT_FALSE(is_transient({"sftp.host_key_mismatch", ""}));
  EXPECT_FALSE(is_transient({"sftp.host_key_unknown", ""}));
  EXPECT_FALSE(is_transient({"sftp.exists", ""}));
  EXPECT_FALSE(is_transient(Error::from_text("sftp.something_new", "")));  // unregistered
}

TEST(Retry, BackoffGrowsAndIsCapped) {
  const auto policy = fast_policy();
  EXPECT_EQ(backoff_delay(policy, 1, 0.5), milliseconds(100));
  EXPECT_EQ(backoff_delay(policy, 2, 0.5), milliseconds(200));
  EXPECT_EQ(backoff_delay(policy, 3, 0.5), milliseconds(250));
  EXPECT_EQ(backoff_delay(policy, 30, 0.5), milliseconds(250));
}

TEST(Retry, JitterStaysWithinItsBand) {
  auto policy = fast_policy();
  policy.jitter = 0.2;
  EXPECT_EQ(backoff_delay(policy, 1, 0.0), milliseconds(80));
  EXPECT_EQ(backoff_delay(policy, 1, 0.5), milliseconds(100));
  EXPECT_EQ(backoff_delay(policy, 1, 0.999999), milliseconds(120));
}

TEST(Retry, RetriesTransientFailuresUntilSuccess) {
  std::vector<milliseconds> sleeps;
  int calls = 0;
  Result<int> result = with_retry(
      fast_policy(),
      [&](int attempt) -> Result<int> {
        ++calls;
        if (attempt < 3) return fail("sftp.connection_lost", "reset");
        return attempt;
      },
      [&](milliseconds delay) { sleeps.push_back(delay); });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(100), milliseconds(200)}));
}

TEST(Retry, GivesUpAfterMaxAttempts) {
  int calls = 0;
  Status result = with_retry(
      fast_policy(),
      [&](int) -> Status {
        ++calls;
        return fail("sftp.timeout", "deadline");
      },
      [](milliseconds) {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "sftp.timeout");
  EXPECT_EQ(calls, 4);
}

TEST(Retry, NeverRetriesAuthenticationOrHostKeyFailures) {
  for (const ErrorCode code : {ErrorCode("sftp.auth_failed"), ErrorCode("sftp.host_key_mismatch"),
                               ErrorCode("sftp.host_key_unknown")}) {
    int calls = 0;
    int sleeps = 0;
    Status result = with_retry(
        fast_policy(),
        [&](int) -> Status {
          ++calls;
          return fail(code, "refused");
        },
        [&](milliseconds) { ++sleeps; });
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, code.text());
    EXPECT_EQ(calls, 1) << code.text();
    EXPECT_EQ(sleeps, 0) << code.text();
  }
}

}  // namespace
}  // namespace kbix
