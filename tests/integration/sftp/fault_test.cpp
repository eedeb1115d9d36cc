// Faults against a real server: killed mid-upload, mid-download and under a listing, restarted,
// frozen.
#include <gtest/gtest.h>

#include "kbix/sftp/remote_name.hpp"
#include "kbix/sftp/retry.hpp"
#include "sftp_test_support.hpp"

namespace kbix::test {
namespace {

bool has_final_name(const SshdServer& server) {
  return std::filesystem::exists(server.remote_file("naar-vdab", kOutName));
}

TEST(SftpFaults, ServerKilledMidUploadLeavesNoFinalNameAndRetryAfterRestartSucceeds) {
  SshdServer server;
  ScratchDir local;
  const std::uint64_t size = 32ull * 1024 * 1024;
  write_random_file(local / "out.p7m", size, 42);
  RetryPolicy policy;
  policy.initial_delay = std::chrono::milliseconds(50);
  policy.jitter = 0.0;
  std::vector<std::string> failures;
  int sleeps = 0;

  auto result = with_retry(
      policy,
      [&](int attempt) -> Result<std::uint64_t> {
        auto client = SftpClient::connect(server.client_settings());
        if (!client) return fail(std::move(client).error());
        auto uploaded = client->upload(local / "out.p7m", "naar-vdab", kOutName,
                                       [&](std::uint64_t done, std::uint64_t) {
                                         if (attempt == 1 && done >= size / 4 && server.running())
                                           server.kill();
                                       });
        if (!uploaded) failures.push_back(uploaded.error().code);
        return uploaded;
      },
      [&](std::chrono::milliseconds) {
        ++sleeps;
        EXPECT_FALSE(has_final_name(server)) << "a final name appeared after the crash";
        server.start();
      });

  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_EQ(*result, size);
  EXPECT_EQ(failures, std::vector<std::string>{"sftp.connection_lost"});
  EXPECT_EQ(sleeps, 1);
  EXPECT_EQ(sha_of(server.remote_file("naar-vdab", kOutName)), sha_of(local / "out.p7m"));
  // The crashed attempt's temporary file may remain; it never counts as a final name.
  for (const auto& entry : std::filesystem::directory_iterator(server.sftp_root() / "naar-vdab")) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == kOutName || is_temporary_upload_name(name)) << name;
  }
}

TEST(SftpFaults, ServerKilledMidDownloadLeavesNoLocalFileAndRetryAfterRestartSucceeds) {
  SshdServer server;
  ScratchDir local;
  const std::uint64_t size = 32ull * 1024 * 1024;
  write_random_file(server.remote_file("van-vdab", kReturnName), size, 12);
  RetryPolicy policy;
  policy.initial_delay = std::chrono::milliseconds(50);
  policy.jitter = 0.0;
  std::vector<std::string> failures;
  auto result = with_retry(
      policy,
      [&](int attempt) -> Result<std::uint64_t> {
        auto client = SftpClient::connect(server.client_settings());
        if (!client) return fail(std::move(client).error());
        auto downloaded = client->download(
            "van-vdab", kReturnName, local / "return.p7m", [&](std::uint64_t done, std::uint64_t) {
              if (attempt == 1 && done >= size / 4 && server.running()) server.kill();
            });
        if (!downloaded) failures.push_back(downloaded.error().code);
        return downloaded;
      },
      [&](std::chrono::milliseconds) {
        EXPECT_TRUE(std::filesystem::is_empty(local.path())) << "a partial download is visible";
        server.start();
      });
  ASSERT_TRUE(result) << result.error().describe();
  EXPECT_EQ(*result, size);
  EXPECT_EQ(failures, std::vector<std::string>{"sftp.connection_lost"});
  EXPECT_EQ(sha_of(local / "return.p7m"), sha_of(server.remote_file("van-vdab", kReturnName)));
}

TEST(SftpFaults, ServerKilledUnderAListingFailsAsTransientAndTheListingAfterRestartWorks) {
  SshdServer server;
  write_random_file(server.remote_file("van-vdab", kReturnName), 1024, 13);
  auto client = connect_or_die(server.client_settings());
  server.kill();
  auto listing = client.list("van-vdab");
  ASSERT_FALSE(listing);
  EXPECT_EQ(listing.error().code, "sftp.connection_lost");
  EXPECT_TRUE(is_transient(listing.error()));
  server.start();
  auto again = connect_or_die(server.client_settings());
  auto relisted = again.list("van-vdab");
  ASSERT_TRUE(relisted) << relisted.error().describe();
  ASSERT_EQ(relisted->entries.size(), 1u);
  EXPECT_EQ(relisted->entries[0].name, kReturnName);
}

TEST(SftpFaults, FrozenServerFailsTheOperationWithTimeout) {
  SshdServer server;
  ScratchDir local;
  write_random_file(local / "out.p7m", 8ull * 1024 * 1024, 7);
  auto settings = server.client_settings();
  settings.operation_deadline = std::chrono::seconds(2);
  auto client = connect_or_die(settings);
  server.freeze();
  auto uploaded = client.upload(local / "out.p7m", "naar-vdab", kOutName);
  server.thaw();
  ASSERT_FALSE(uploaded);
  EXPECT_EQ(uploaded.error().code, "sftp.timeout");
  EXPECT_TRUE(is_transient(uploaded.error()));
  EXPECT_FALSE(has_final_name(server));
  // The session is spent after a timeout; the caller connects again.
  auto after = client.list("naar-vdab");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, "sftp.not_connected");
}

TEST(SftpFaults, ServerFrozenMidUploadFailsWithTimeoutAndLeavesNoFinalName) {
  SshdServer server;
  ScratchDir local;
  const std::uint64_t size = 32ull * 1024 * 1024;
  write_random_file(local / "out.p7m", size, 9);
  auto settings = server.client_settings();
  settings.operation_deadline = std::chrono::seconds(3);
  auto client = connect_or_die(settings);
  bool frozen = false;
  auto uploaded = client.upload(local / "out.p7m", "naar-vdab", kOutName,
                                [&](std::uint64_t done, std::uint64_t) {
                                  if (!frozen && done >= size / 4) {
                                    server.freeze();
                                    frozen = true;
                                  }
                                });
  server.thaw();
  ASSERT_TRUE(frozen);
  ASSERT_FALSE(uploaded);
  EXPECT_EQ(uploaded.error().code, "sftp.timeout");
  EXPECT_FALSE(has_final_name(server));
  // A new connection to the thawed server works and the retry of the upload succeeds.
  auto again = connect_or_die(server.client_settings());
  auto retried = again.upload(local / "out.p7m", "naar-vdab", kOutName);
  ASSERT_TRUE(retried) << retried.error().describe();
  EXPECT_EQ(sha_of(server.remote_file("naar-vdab", kOutName)), sha_of(local / "out.p7m"));
}

TEST(SftpFaults, ServerFrozenMidDownloadFailsWithTimeoutAndLeavesNoLocalFile) {
  SshdServer server;
  ScratchDir local;
  const std::uint64_t size = 32ull * 1024 * 1024;
  write_random_file(server.remote_file("van-vdab", kReturnName), size, 10);
  auto settings = server.client_settings();
  settings.operation_deadline = std::chrono::seconds(3);
  auto client = connect_or_die(settings);
  bool frozen = false;
  auto downloaded = client.download("van-vdab", kReturnName, local / "return.p7m",
                                    [&](std::uint64_t done, std::uint64_t) {
                                      if (!frozen && done >= size / 4) {
                                        server.freeze();
                                        frozen = true;
                                      }
                                    });
  server.thaw();
  ASSERT_TRUE(frozen);
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().code, "sftp.timeout");
  EXPECT_TRUE(std::filesystem::is_empty(local.path()));
}

TEST(SftpFaults, FrozenServerFailsTheListingWithTimeout) {
  SshdServer server;
  auto settings = server.client_settings();
  settings.operation_deadline = std::chrono::seconds(2);
  auto client = connect_or_die(settings);
  server.freeze();
  auto listing = client.list("van-vdab");
  server.thaw();
  ASSERT_FALSE(listing);
  EXPECT_EQ(listing.error().code, "sftp.timeout");
}

TEST(SftpFaults, FrozenServerFailsTheConnectWithTimeout) {
  SshdServer server;
  auto settings = server.client_settings();
  settings.connect_timeout = std::chrono::seconds(2);
  server.freeze();
  auto client = SftpClient::connect(settings);
  server.thaw();
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "sftp.timeout");
}

}  // namespace
}  // namespace kbix::test
