// A real OpenSSH sshd on 127.0.0.1 for integration tests (no mock stands in for the server).
//
// SshdServer makes a private work directory with fresh host and client ed25519 keys, a pinned
// known_hosts file, an sshd_config on a free loopback port (checked with `sshd -t`), and an SFTP
// root holding the exchange directories; it starts `/usr/sbin/sshd -D -e`, waits for "Server
// listening on", and stops the whole process tree (listener and per-connection children) on
// destruction. Tests can kill, freeze (SIGSTOP), thaw and restart the server on the same port.
// The client logs in as the current user (root included: PermitRootLogin prohibit-password).
//
// Does NOT guarantee: isolation from other sshd instances beyond the port; a port that stays free
// between runs (start() retries a few times); that the SFTP root confines the client (no chroot:
// the client could reach any path the user can).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/sftp/sftp.hpp"
#include "support/temp_dir.hpp"

namespace kbix::test {

// Writes `size` pseudo-random bytes (deterministic for a seed), mode 0600.
void write_random_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t seed);

// Runs a shell command; throws std::runtime_error when it exits non-zero. Returns its stdout.
std::string run_command(const std::string& command);

// Makes an ed25519 key pair `path` and `path.pub` with ssh-keygen.
void make_ed25519_key(const std::filesystem::path& path);

// "SHA256:..." of a public key file, as ssh-keygen -lf prints it.
std::string key_fingerprint(const std::filesystem::path& public_key);

class SshdServer {
 public:
  // Starts the server; throws std::runtime_error when it cannot.
  explicit SshdServer(std::vector<std::string> remote_dirs = {"naar-vdab", "van-vdab"});
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string user() const { return user_; }
  const std::filesystem::path& work_dir() const { return work_dir_; }
  // The SFTP start directory; remote paths like "naar-vdab" resolve below it.
  const std::filesystem::path& sftp_root() const { return sftp_root_; }
  std::filesystem::path remote_file(const std::string& dir, const std::string& name) const {
    return sftp_root_ / dir / name;
  }
  const std::filesystem::path& client_key() const { return client_key_; }
  const std::filesystem::path& known_hosts() const { return known_hosts_; }
  std::filesystem::path host_public_key() const { return host_key_.string() + ".pub"; }
  // The SFTP server's own log (sftp-server -l VERBOSE): one line per request, written by OpenSSH,
  // not by the code under test. How many files were opened for writing, and how many renamed,
  // under the remote directory `dir` (e.g. "naar-vdab"): uploads and publications as the server
  // saw them.
  const std::filesystem::path& sftp_log() const { return sftp_log_; }
  std::uint64_t files_written_in(const std::string& dir) const;
  std::uint64_t renames_in(const std::string& dir) const;

  // Settings that connect to this server with short, test-friendly timeouts.
  SftpSettings client_settings() const;
  // Writes a known_hosts file pinning `public_key` for this server's "[127.0.0.1]:port".
  void write_known_hosts(const std::filesystem::path& file,
                         const std::filesystem::path& public_key) const;

  void start();   // (re)starts on the same port; throws when it does not come up
  void stop();    // SIGKILL sessions, SIGTERM listener, wait
  void kill();    // SIGKILL listener and every session at once ("server crashed")
  void freeze();  // SIGSTOP listener and sessions
  void thaw();    // SIGCONT
  bool running() const { return pid_ > 0; }

 private:
  void write_config();
  bool try_start();  // false when the port was taken
  std::vector<pid_t> process_tree() const;
  void signal_tree(int signal);
  void reap();

  std::filesystem::path work_dir_;
  std::filesystem::path sftp_root_;
  std::filesystem::path host_key_;
  std::filesystem::path client_key_;
  std::filesystem::path known_hosts_;
  std::filesystem::path authorized_keys_;
  std::filesystem::path config_;
  std::filesystem::path log_;
  std::filesystem::path sftp_log_;
  std::string user_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace kbix::test
