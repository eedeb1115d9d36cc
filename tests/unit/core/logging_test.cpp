// The journal fields of a log line (KBIX_EVENT, KBIX_RUN_ID, KBIX_ERROR) and their scopes.
#include "kbix/core/logging.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace kbix {
namespace {

bool has(const std::vector<std::string>& fields, const std::string& field) {
  return std::find(fields.begin(), fields.end(), field) != fields.end();
}

bool has_prefix(const std::vector<std::string>& fields, const std::string& prefix) {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const std::string& f) { return f.rfind(prefix, 0) == 0; });
}

TEST(JournalFields, ALineOutsideARunIsADaemonEventWithoutRunOrError) {
  const auto fields = journal_fields("kbix daemon ready", 6, current_log_fields());
  EXPECT_TRUE(has(fields, "MESSAGE=kbix daemon ready"));
  EXPECT_TRUE(has(fields, "PRIORITY=6"));
  EXPECT_TRUE(has(fields, "SYSLOG_IDENTIFIER=kbix"));
  EXPECT_TRUE(has(fields, "KBIX_EVENT=daemon"));
  EXPECT_FALSE(has_prefix(fields, "KBIX_RUN_ID="));
  EXPECT_FALSE(has_prefix(fields, "KBIX_ERROR="));
}

TEST(JournalFields, NestedScopesInheritTheRunAndRestoreOnExit) {
  {
    const ScopedLogFields step({"20261122T135500Z-3f9a", "run.outbound_sealed", ""});
    auto fields = journal_fields("sftp: uploaded", 6, current_log_fields());
    EXPECT_TRUE(has(fields, "KBIX_RUN_ID=20261122T135500Z-3f9a"));
    EXPECT_TRUE(has(fields, "KBIX_EVENT=run.outbound_sealed"));
    {
      const ScopedLogFields failed({"", "run.failed", "sftp.timeout"});
      fields = journal_fields("run failed", 3, current_log_fields());
      EXPECT_TRUE(has(fields, "KBIX_RUN_ID=20261122T135500Z-3f9a")) << "inherited";
      EXPECT_TRUE(has(fields, "KBIX_EVENT=run.failed"));
      EXPECT_TRUE(has(fields, "KBIX_ERROR=sftp.timeout"));
    }
    fields = journal_fields("again", 6, current_log_fields());
    EXPECT_TRUE(has(fields, "KBIX_EVENT=run.outbound_sealed"));
    EXPECT_FALSE(has_prefix(fields, "KBIX_ERROR=")) << "the inner scope's error is gone";
  }
  EXPECT_TRUE(current_log_fields().run_id.empty());
  EXPECT_TRUE(current_log_fields().event.empty());
}

TEST(JournalFields, ScopesArePerThread) {
  const ScopedLogFields mine({"run-on-this-thread", "run.upload", ""});
  std::string seen = "unset";
  std::thread([&] { seen = current_log_fields().run_id; }).join();
  EXPECT_EQ(seen, "");
  EXPECT_EQ(current_log_fields().run_id, "run-on-this-thread");
}

}  // namespace
}  // namespace kbix
