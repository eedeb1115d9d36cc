// Invariant 6: an unknown or changed host key means no connection; only key authentication.
#include <gtest/gtest.h>

#include <fstream>

#include "kbix/sftp/retry.hpp"
#include "sftp_test_support.hpp"

namespace kbix::test {
namespace {

TEST(SftpSecurity, PinnedHostKeyConnects) {
  SshdServer server;
  auto client = SftpClient::connect(server.client_settings());
  ASSERT_TRUE(client) << client.error().describe();
  EXPECT_FALSE(client->cipher().empty());
}

TEST(SftpSecurity, ChangedHostKeyIsRefusedAndTheOfferedFingerprintNamed) {
  SshdServer server;
  ScratchDir scratch;
  make_ed25519_key(scratch / "impostor");
  auto settings = server.client_settings();
  settings.known_hosts_file = scratch / "known_hosts";
  server.write_known_hosts(settings.known_hosts_file, scratch / "impostor.pub");
  auto client = SftpClient::connect(settings);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "sftp.host_key_mismatch");
  const std::string offered = key_fingerprint(server.host_public_key());
  ASSERT_EQ(offered.rfind("SHA256:", 0), 0u);
  EXPECT_NE(client.error().message.find(offered), std::string::npos) << client.error().message;
}

TEST(SftpSecurity, UnknownHostIsRefused) {
  SshdServer server;
  ScratchDir scratch;
  auto settings = server.client_settings();
  // Empty file, a missing file, and a key pinned for another port: all "unknown".
  settings.known_hosts_file = scratch / "empty";
  std::ofstream(settings.known_hosts_file).close();
  for (const auto& file : {scratch / "empty", scratch / "missing", scratch / "other-port"}) {
    if (file.filename() == "other-port") {
      std::ofstream out(file);
      std::ifstream pub(server.host_public_key());
      std::string type;
      std::string key;
      pub >> type >> key;
      out << "[127.0.0.1]:" << (server.port() == 65535 ? 1 : server.port() + 1) << " " << type
          << " " << key << "\n";
    }
    settings.known_hosts_file = file;
    auto client = SftpClient::connect(settings);
    ASSERT_FALSE(client) << file;
    EXPECT_EQ(client.error().code, "sftp.host_key_unknown") << file;
    EXPECT_NE(client.error().message.find(key_fingerprint(server.host_public_key())),
              std::string::npos);
  }
}

TEST(SftpSecurity, WrongClientKeyIsRefusedWithoutRetry) {
  SshdServer server;
  ScratchDir scratch;
  make_ed25519_key(scratch / "stranger");
  auto settings = server.client_settings();
  settings.identity_file = scratch / "stranger";
  RetryPolicy policy;
  policy.initial_delay = std::chrono::milliseconds(1);
  int attempts = 0;
  int sleeps = 0;
  auto result = with_retry(
      policy,
      [&](int) {
        ++attempts;
        return SftpClient::connect(settings);
      },
      [&](std::chrono::milliseconds) { ++sleeps; });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "sftp.auth_failed");
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(sleeps, 0);
}

TEST(SftpSecurity, PrivateKeyReadableByOthersIsRefused) {
  SshdServer server;
  ScratchDir scratch;
  std::filesystem::copy_file(server.client_key(), scratch / "key");
  std::filesystem::permissions(scratch / "key", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto settings = server.client_settings();
  settings.identity_file = scratch / "key";
  auto client = SftpClient::connect(settings);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "security.key_file_mode");
}

TEST(SftpSecurity, KnownHostsFileWritableByOthersIsRefused) {
  SshdServer server;
  std::filesystem::permissions(server.known_hosts(), std::filesystem::perms::others_write,
                               std::filesystem::perm_options::add);
  auto client = SftpClient::connect(server.client_settings());
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "security.known_hosts_mode");
}

TEST(SftpSecurity, NoCommonCipherMeansNoConnection) {
  SshdServer server;
  auto settings = server.client_settings();
  settings.ciphers = "aes128-cbc";  // not offered by OpenSSH 9 by default
  auto client = SftpClient::connect(settings);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "sftp.connect_failed");
}

TEST(SftpSecurity, NoServerListeningIsATransientConnectFailure) {
  SshdServer server;
  server.stop();
  auto client = SftpClient::connect(server.client_settings());
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, "sftp.connect_failed");
  EXPECT_TRUE(is_transient(client.error()));
}

}  // namespace
}  // namespace kbix::test
