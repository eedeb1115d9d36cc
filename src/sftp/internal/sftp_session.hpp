// Internal to the sftp module: the libssh session behind SftpClient, the deadline watchdog and
// the mapping of libssh failures to kbix error codes. Not a public header.
#pragma once

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "kbix/core/result.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

struct SftpClient::Session {
  SftpSettings settings;
  ssh_session ssh = nullptr;
  sftp_session sftp = nullptr;
  int fd = -1;  // closed by libssh (ssh_free) once handed over with SSH_OPTIONS_FD
  bool fd_handed_to_ssh = false;  // set just before ssh_connect()
  std::atomic<bool> deadline_passed{false};
  bool broken = false;               // after a timeout or a lost connection: connect again
  std::string host_key_fingerprint;  // "ssh-ed25519 SHA256:...", set once the pin matched

  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();
};

namespace sftp_detail {

// Shuts the socket down when `limit` passes before the watchdog is destroyed. A blocked libssh
// call then sees a dead socket and returns; the caller maps that to "sftp.timeout". shutdown()
// rather than close(): the descriptor stays valid for libssh, only its traffic stops.
class DeadlineWatchdog {
 public:
  DeadlineWatchdog(SftpClient::Session& session, std::chrono::milliseconds limit);
  DeadlineWatchdog(const DeadlineWatchdog&) = delete;
  DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;
  ~DeadlineWatchdog() = default;  // jthread: requests stop and joins

 private:
  std::jthread thread_;
};

// libssh's error text for `ssh`, sanitised: it can hold the server's banner bytes verbatim.
std::string server_error_text(ssh_session ssh);

// The error for a failed libssh/sftp call on `session`; `what` names the operation and file.
Error session_failure(SftpClient::Session& session, std::string_view what);

// "dir/name" (or "name" when dir is empty).
std::string remote_path(const std::string& dir, const std::string& name);

}  // namespace sftp_detail
}  // namespace kbix
