// RemoteStore: what the exchange engine needs from the partner's side of a transfer (DESIGN.md §3).
//
// The engine lists, stats, uploads (temporary name, then rename), downloads and removes files in
// the partner's directories through this interface only, so that it runs the same against the
// real SFTP server (sftp_remote_store(), built on SftpClient) and against an in-memory double in
// its unit tests (tests/support/fake_remote_store.hpp), which injects faults at any call.
//
// The contract is SftpClient's: error codes sftp.* (sftp.not_found for a missing file,
// sftp.connection_lost / sftp.timeout for passing failures, see kbix/sftp/retry.hpp), upload never
// overwrites a final name, download never replaces a local file, listed names are validated.
//
// Does NOT guarantee: anything SftpClient does not (see kbix/sftp/sftp.hpp); thread safety.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "kbix/core/result.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

class RemoteStore {
 public:
  virtual ~RemoteStore() = default;

  virtual Result<RemoteListing> list(const std::string& remote_dir) = 0;
  virtual Result<RemoteEntry> stat(const std::string& remote_dir, const std::string& name) = 0;
  virtual Result<std::uint64_t> upload(const std::filesystem::path& local_file,
                                       const std::string& remote_dir, const std::string& final_name,
                                       const TransferProgress& progress,
                                       const BeforeRename& before_rename) = 0;
  virtual Result<std::uint64_t> download(const std::string& remote_dir, const std::string& name,
                                         const std::filesystem::path& local_path,
                                         const TransferProgress& progress) = 0;
  virtual Status remove(const std::string& remote_dir, const std::string& name) = 0;

  // For the audit entry of a connection: the negotiated cipher and the host key that matched.
  virtual std::string cipher() const = 0;
  virtual std::string host_key_fingerprint() const = 0;
};

// Opens one connection (one session) to the partner's store.
using RemoteStoreConnector = std::function<Result<std::unique_ptr<RemoteStore>>()>;

// The real transport: each call of the connector connects an SftpClient (no retry here; the
// engine retries connecting, see Exchange).
RemoteStoreConnector sftp_remote_store(SftpSettings settings);

}  // namespace kbix
