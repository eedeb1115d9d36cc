#include <gtest/gtest.h>

#include "kbix/core/config.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {
namespace {

TEST(SftpSettings, TakenFromTheConfigSection) {
  SftpConfig config;
  config.host = "sftp.partner.example";
  config.port = 2222;
  config.user = "agii";
  config.identity_file = "/etc/kbix/keys/sftp_ed25519";
  config.known_hosts_file = "/etc/kbix/keys/known_hosts";
  config.connect_timeout = std::chrono::seconds(7);
  config.operation_deadline = std::chrono::seconds(99);
  config.keepalive = std::chrono::seconds(11);
  config.min_file_age = std::chrono::seconds(123);
  const SftpSettings settings = make_sftp_settings(config);
  EXPECT_EQ(settings.host, "sftp.partner.example");
  EXPECT_EQ(settings.port, 2222);
  EXPECT_EQ(settings.user, "agii");
  EXPECT_EQ(settings.identity_file, config.identity_file);
  EXPECT_EQ(settings.known_hosts_file, config.known_hosts_file);
  EXPECT_EQ(settings.connect_timeout, std::chrono::seconds(7));
  EXPECT_EQ(settings.operation_deadline, std::chrono::seconds(99));
  EXPECT_EQ(settings.keepalive_interval, std::chrono::seconds(11));
  EXPECT_EQ(settings.min_age, std::chrono::seconds(123));
}

TEST(SftpSettings, DefaultAlgorithmsAreModern) {
  const SftpSettings settings;
  for (const std::string& list :
       {settings.ciphers, settings.macs, settings.key_exchange, settings.host_key_algorithms}) {
    EXPECT_EQ(list.find("cbc"), std::string::npos) << list;
    EXPECT_EQ(list.find("sha1"), std::string::npos) << list;
    EXPECT_EQ(list.find("ssh-rsa,"), std::string::npos) << list;
    EXPECT_EQ(list.find("ssh-dss"), std::string::npos) << list;
    EXPECT_EQ(list.find("md5"), std::string::npos) << list;
  }
}

}  // namespace
}  // namespace kbix
