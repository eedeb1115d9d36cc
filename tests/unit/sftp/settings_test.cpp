// The sftp module's default algorithms (what [sftp] fills is
// tests/unit/config/sections_test.cpp).
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "kbix/sftp/sftp_settings.hpp"

namespace kbix {
namespace {

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
  // An empty list would pass the checks above (and leave libssh's defaults in force): each list
  // must name algorithms, and only ones from this hand-written allowlist of modern ones.
  const std::set<std::string> modern = {"chacha20-poly1305@openssh.com",
                                        "aes256-gcm@openssh.com",
                                        "aes128-gcm@openssh.com",
                                        "aes256-ctr",
                                        "aes192-ctr",
                                        "aes128-ctr",
                                        "hmac-sha2-256-etm@openssh.com",
                                        "hmac-sha2-512-etm@openssh.com",
                                        "hmac-sha2-256",
                                        "hmac-sha2-512",
                                        "umac-128-etm@openssh.com",
                                        "curve25519-sha256",
                                        "curve25519-sha256@libssh.org",
                                        "sntrup761x25519-sha512@openssh.com",
                                        "ecdh-sha2-nistp256",
                                        "ecdh-sha2-nistp384",
                                        "ecdh-sha2-nistp521",
                                        "diffie-hellman-group16-sha512",
                                        "diffie-hellman-group18-sha512",
                                        "diffie-hellman-group14-sha256",
                                        "ssh-ed25519",
                                        "ecdsa-sha2-nistp256",
                                        "ecdsa-sha2-nistp384",
                                        "ecdsa-sha2-nistp521",
                                        "rsa-sha2-512",
                                        "rsa-sha2-256"};
  for (const std::string& list :
       {settings.ciphers, settings.macs, settings.key_exchange, settings.host_key_algorithms}) {
    ASSERT_FALSE(list.empty());
    std::stringstream items(list);
    std::size_t count = 0;
    for (std::string item; std::getline(items, item, ',');) {
      EXPECT_TRUE(modern.contains(item)) << "'" << item << "' in " << list;
      ++count;
    }
    EXPECT_GT(count, 0u) << list;
  }
}

}  // namespace
}  // namespace kbix
