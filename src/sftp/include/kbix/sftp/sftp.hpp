// SftpClient: the only code that talks to the partner's SFTP server (DESIGN.md §3, inv. 2, 6).
//
// - connect(): our own TCP connect (bounded by connect_timeout, TCP keepalive on), SSH with a
//   configurable list of modern algorithms, the server's host key checked against the pinned
//   known_hosts file ONLY (no ~/.ssh/config, no global known_hosts), public-key authentication
//   only. Anything but an exact host-key match is refused and the offered SHA256 fingerprint named.
// - Every operation runs under operation_deadline, enforced by kbix: a watchdog shuts the socket
//   down when the deadline passes, the operation fails with "sftp.timeout" and the session is
//   dead (connect again).
// - upload(): written as ".<final>.part-<hex>", size checked, renamed; a final name that exists
//   is never overwritten ("sftp.exists"); on failure the temporary file is removed when the
//   connection still allows it; a file never appears under its final name half-written.
// - download(): pipelined asynchronous reads into an AtomicFile; short reads and size changes fail.
// - list(): names are untrusted; only names passing validate_remote_name() are returned.
//
// Error codes: sftp.connect_failed, sftp.timeout, sftp.connection_lost, sftp.protocol,
// sftp.host_key_unknown, sftp.host_key_mismatch, sftp.host_key_error, sftp.auth_failed,
// sftp.not_found, sftp.permission_denied, sftp.exists, sftp.size_mismatch, sftp.short_read,
// sftp.remote_failure, sftp.too_large, sftp.not_connected, sftp.not_regular_file, sftp.identity,
// sftp.settings, sftp.name_*, io.*, security.key_file_mode, security.known_hosts_mode
// (group/other-writable).
//
// Does NOT guarantee: that a file renamed into place is read by nobody before we are done (the
// partner's reader must honour the temporary-name convention); durability on the server (SFTP v3
// has no fsync we rely on); thread safety (one client per thread); that libssh keeps no copy of
// key material in memory after disconnect.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/sftp/sftp_settings.hpp"

namespace kbix {

struct RemoteEntry {
  std::string name;  // validated by validate_remote_name()
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;  // server clock, whole seconds
  bool is_regular_file = false;
};

struct RejectedRemoteName {
  std::string escaped_name;  // escape_remote_name() of the raw name
  std::string code;          // "sftp.name_*"
};

struct RemoteListing {
  std::vector<RemoteEntry> entries;  // sorted by name; "." and ".." left out
  std::vector<RejectedRemoteName> rejected;
};

// Called after each chunk: bytes transferred so far and the total. Must not throw.
using TransferProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Called by upload() once the temporary file is complete and size-checked, just before the
// rename, with the temporary file's name. A caller that must know after a crash whether the rename
// happened records that name durably here; a failure cancels the upload (temporary file removed).
using BeforeRename = std::function<Status(const std::string& temporary_name)>;

class SftpClient {
 public:
  // Connects, checks the host key and authenticates. Never retries (see retry.hpp).
  static Result<SftpClient> connect(const SftpSettings& settings);

  SftpClient(SftpClient&&) noexcept;
  SftpClient& operator=(SftpClient&&) noexcept;
  SftpClient(const SftpClient&) = delete;
  SftpClient& operator=(const SftpClient&) = delete;
  ~SftpClient();  // disconnects

  // Uploads `local_file` as remote_dir/final_name (see header comment). Returns the byte count.
  Result<std::uint64_t> upload(const std::filesystem::path& local_file,
                               const std::string& remote_dir, const std::string& final_name,
                               const TransferProgress& progress = {},
                               const BeforeRename& before_rename = {});

  // Downloads remote_dir/name to `local_path` (created 0600, never replacing an existing file:
  // "io.exists"). Returns the byte count. A file larger than `max_bytes` (its size on the opened
  // handle, whatever the listing said) is refused before its first byte, and no read goes past
  // the limit: "sftp.too_large", nothing left on disk.
  Result<std::uint64_t> download(
      const std::string& remote_dir, const std::string& name,
      const std::filesystem::path& local_path, const TransferProgress& progress = {},
      std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());

  Result<RemoteListing> list(const std::string& remote_dir);
  Result<RemoteEntry> stat(const std::string& remote_dir, const std::string& name);
  Status remove(const std::string& remote_dir, const std::string& name);

  // The negotiated cipher (client to server), for logs and the benchmark.
  std::string cipher() const;
  // The server's host key as it matched the pin ("ssh-ed25519 SHA256:..."), for the audit log.
  std::string host_key_fingerprint() const;

  struct Session;  // opaque: defined inside the module only

 private:
  explicit SftpClient(std::unique_ptr<Session> session);
  std::unique_ptr<Session> session_;
};

}  // namespace kbix
