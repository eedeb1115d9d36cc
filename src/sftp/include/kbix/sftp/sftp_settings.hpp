// SftpSettings: how the sftp module connects to one server and bounds each operation. The only
// settings type of the transport: the configuration's [sftp] section fills it (kbix/config), the
// partner simulator and the tests build it in code. Its defaults are the loader's defaults.
//
// Every duration is in milliseconds (the configuration file gives whole seconds).
//
// Does NOT guarantee: that the host or the files exist (SftpClient::connect checks them).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace kbix {

struct SftpSettings {
  std::string host;
  std::uint16_t port = 22;
  std::string user;
  std::filesystem::path identity_file;     // private key, must be 0600 or stricter
  std::filesystem::path known_hosts_file;  // the pinned host key; "[host]:port" when port != 22
  // Comma-separated, most preferred first. Defaults: no SHA-1, no CBC, no DSA.
  std::string host_key_algorithms = "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256";
  std::string key_exchange =
      "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
      "diffie-hellman-group16-sha512";
  std::string ciphers =
      "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
      "aes256-ctr,aes128-ctr";
  std::string macs = "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256";
  std::chrono::milliseconds connect_timeout{20'000};      // TCP connect + handshake + auth
  std::chrono::milliseconds operation_deadline{600'000};  // each upload/download/list/stat/remove
  std::chrono::milliseconds keepalive_interval{30'000};   // TCP keepalive idle/interval (whole s)
  std::chrono::milliseconds min_age{60'000};              // readiness: minimum file age
  std::chrono::milliseconds poll_settle{5'000};           // readiness: pause between two listings
};

}  // namespace kbix
