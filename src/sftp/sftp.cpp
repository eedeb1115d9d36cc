// SftpClient operations: upload, download, list, stat, remove.
#include "kbix/sftp/sftp.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "internal/sftp_session.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/sftp/remote_name.hpp"

namespace kbix {
namespace {

using sftp_detail::DeadlineWatchdog;
using sftp_detail::remote_path;
using sftp_detail::session_failure;

// sftp_write is synchronous in libssh 0.10; OpenSSH's server drops the session for writes of
// 256 KiB or more, so this is the largest safe chunk (255 KiB).
constexpr std::size_t kUploadChunk = 261120;
// Download pipeline: this many read requests of this size in flight.
constexpr std::uint32_t kReadRequestSize = 64 * 1024;
constexpr std::size_t kReadsInFlight = 16;

struct SftpFileCloser {
  void operator()(sftp_file file) const { sftp_close(file); }
};
using SftpFileHandle = std::unique_ptr<sftp_file_struct, SftpFileCloser>;
struct AttributesFree {
  void operator()(sftp_attributes attributes) const { sftp_attributes_free(attributes); }
};
using AttributesHandle = std::unique_ptr<sftp_attributes_struct, AttributesFree>;

std::string random_hex(std::size_t bytes) {
  std::random_device device;
  std::vector<std::uint8_t> data(bytes);
  for (auto& byte : data) byte = static_cast<std::uint8_t>(device() & 0xffu);
  return to_hex(data);
}

RemoteEntry to_entry(std::string name, const sftp_attributes_struct& attributes) {
  RemoteEntry entry;
  entry.name = std::move(name);
  entry.size = (attributes.flags & SSH_FILEXFER_ATTR_SIZE) != 0 ? attributes.size : 0;
  entry.modified = std::chrono::system_clock::time_point(std::chrono::seconds(attributes.mtime));
  entry.is_regular_file = attributes.type == SSH_FILEXFER_TYPE_REGULAR;
  return entry;
}

class LocalFile {
 public:
  explicit LocalFile(int fd) : fd_(fd) {}
  LocalFile(const LocalFile&) = delete;
  LocalFile& operator=(const LocalFile&) = delete;
  ~LocalFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

SftpClient::SftpClient(std::unique_ptr<Session> session) : session_(std::move(session)) {}
SftpClient::SftpClient(SftpClient&&) noexcept = default;
SftpClient& SftpClient::operator=(SftpClient&&) noexcept = default;
SftpClient::~SftpClient() = default;

std::string SftpClient::host_key_fingerprint() const {
  return session_ ? session_->host_key_fingerprint : "";
}

std::string SftpClient::cipher() const {
  if (!session_ || session_->ssh == nullptr) return "";
  const char* name = ssh_get_cipher_out(session_->ssh);
  return name != nullptr ? name : "";
}

#define KBIX_REQUIRE_SESSION()                                                         \
  do {                                                                                 \
    if (!session_ || session_->broken || session_->deadline_passed || !session_->sftp) \
      return fail("sftp.not_connected", "the SFTP session is closed; connect again");  \
  } while (false)

Result<std::uint64_t> SftpClient::upload(const std::filesystem::path& local_file,
                                         const std::string& remote_dir,
                                         const std::string& final_name,
                                         const TransferProgress& progress,
                                         const BeforeRename& before_rename) {
  KBIX_TRY(validate_remote_name(final_name));
  KBIX_REQUIRE_SESSION();
  LocalFile local(::open(local_file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat local_stat {};
  if (local.fd() < 0 || ::fstat(local.fd(), &local_stat) != 0 || !S_ISREG(local_stat.st_mode)) {
    return fail("io.read",
                local_file.string() + ": cannot open as a regular file: " + std::strerror(errno));
  }
  const auto total = static_cast<std::uint64_t>(local_stat.st_size);
  Session& session = *session_;
  const std::string final_path = remote_path(remote_dir, final_name);
  const std::string temp_name = temporary_upload_name(final_name, random_hex(8));
  const std::string temp_path = remote_path(remote_dir, temp_name);
  DeadlineWatchdog watchdog(session, session.settings.operation_deadline);

  if (AttributesHandle existing{sftp_lstat(session.sftp, final_path.c_str())}) {
    return fail("sftp.exists", final_path + ": already exists on the server, not overwritten");
  }
  if (sftp_get_error(session.sftp) != SSH_FX_NO_SUCH_FILE) {
    return fail(session_failure(session, "checking " + final_path));
  }

  bool temp_created = false;
  // Removes the temporary file on any failure while the session still works.
  auto failed = [&](Error error) -> Result<std::uint64_t> {
    if (temp_created && !session.broken && !session.deadline_passed) {
      sftp_unlink(session.sftp, temp_path.c_str());
    }
    spdlog::warn("sftp: upload of {} failed: {}", final_path, error.describe());
    return fail(std::move(error));
  };

  SftpFileHandle remote{
      sftp_open(session.sftp, temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600)};
  if (!remote) return failed(session_failure(session, "creating " + temp_path));
  temp_created = true;

  std::vector<char> buffer(kUploadChunk);
  std::uint64_t done = 0;
  for (;;) {
    const ssize_t got = ::read(local.fd(), buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return failed({"io.read", local_file.string() + ": read failed: " + std::strerror(errno)});
    }
    if (got == 0) break;
    const auto length = static_cast<std::size_t>(got);
    const ssize_t written = sftp_write(remote.get(), buffer.data(), length);
    if (written < 0 || static_cast<std::size_t>(written) != length) {
      return failed(session_failure(session, "writing " + temp_path));
    }
    done += length;
    if (progress) progress(done, total);
  }
  if (sftp_close(remote.release()) != SSH_OK) {
    return failed(session_failure(session, "closing " + temp_path));
  }
  AttributesHandle written{sftp_stat(session.sftp, temp_path.c_str())};
  if (!written) return failed(session_failure(session, "checking " + temp_path));
  if (written->size != done || done != total) {
    return failed({"sftp.size_mismatch",
                   temp_path + ": server holds " + std::to_string(written->size) + " bytes, sent " +
                       std::to_string(done) + " of " + std::to_string(total)});
  }
  if (before_rename) {
    if (auto noted = before_rename(temp_name); !noted) return failed(std::move(noted).error());
  }
  // OpenSSH's server renames with link()+unlink(): it fails when the final name exists.
  if (sftp_rename(session.sftp, temp_path.c_str(), final_path.c_str()) != SSH_OK) {
    Error error = session_failure(session, "renaming to " + final_path);
    if (!session.broken) {
      if (AttributesHandle raced{sftp_lstat(session.sftp, final_path.c_str())}) {
        error = {"sftp.exists", final_path + ": appeared during the upload, not overwritten"};
      }
    }
    return failed(std::move(error));
  }
  spdlog::info("sftp: uploaded {} ({} bytes)", final_path, done);
  return done;
}

Result<std::uint64_t> SftpClient::download(const std::string& remote_dir, const std::string& name,
                                           const std::filesystem::path& local_path,
                                           const TransferProgress& progress,
                                           std::uint64_t max_bytes) {
  KBIX_TRY(validate_remote_name(name));
  KBIX_REQUIRE_SESSION();
  Session& session = *session_;
  const std::string path = remote_path(remote_dir, name);
  KBIX_ASSIGN_OR_RETURN(auto local, AtomicFile::create_new(local_path, 0600));
  DeadlineWatchdog watchdog(session, session.settings.operation_deadline);

  SftpFileHandle remote{sftp_open(session.sftp, path.c_str(), O_RDONLY, 0)};
  if (!remote) return fail(session_failure(session, "opening " + path));
  AttributesHandle attributes{sftp_fstat(remote.get())};
  if (!attributes) return fail(session_failure(session, "checking " + path));
  if (attributes->type != SSH_FILEXFER_TYPE_REGULAR ||
      (attributes->flags & SSH_FILEXFER_ATTR_SIZE) == 0) {
    return fail("sftp.not_regular_file", path + ": not a regular file of known size");
  }
  const std::uint64_t total = attributes->size;
  // The listing may have lied: the size of the opened file is checked again before any byte.
  if (total > max_bytes) {
    return fail("sftp.too_large", path + ": " + std::to_string(total) +
                                      " bytes, more than the limit of " +
                                      std::to_string(max_bytes) + "; not downloaded");
  }

  struct Request {
    int id;
    std::uint32_t length;
  };
  std::deque<Request> in_flight;
  std::uint64_t requested = 0;
  // Explicit seek before each request: the offset of the request is then never a guess.
  auto request_more = [&]() -> Status {
    while (in_flight.size() < kReadsInFlight && requested < total) {
      const auto length =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(kReadRequestSize, total - requested));
      if (sftp_seek64(remote.get(), requested) != 0) {
        return fail(session_failure(session, "seeking in " + path));
      }
      const int id = sftp_async_read_begin(remote.get(), length);
      if (id < 0) return fail(session_failure(session, "requesting " + path));
      in_flight.push_back({id, length});
      requested += length;
    }
    return ok();
  };

  std::vector<char> buffer(kReadRequestSize);
  std::uint64_t done = 0;
  KBIX_TRY(request_more());
  while (!in_flight.empty()) {
    const Request request = in_flight.front();
    in_flight.pop_front();
    const int got = sftp_async_read(remote.get(), buffer.data(), request.length,
                                    static_cast<std::uint32_t>(request.id));
    if (got < 0) return fail(session_failure(session, "reading " + path));
    if (done + static_cast<std::uint64_t>(got) > max_bytes) {  // never past the limit
      session.broken = true;
      return fail("sftp.too_large", path + ": more than the limit of " + std::to_string(max_bytes) +
                                        " bytes; download abandoned");
    }
    if (static_cast<std::uint32_t>(got) != request.length) {
      // Abandon the session: replies to the requests still in flight would be mismatched.
      session.broken = true;
      return fail("sftp.short_read", path + ": short read at offset " + std::to_string(done) +
                                         " (file changed or truncated during download)");
    }
    KBIX_TRY(local.write(std::string_view(buffer.data(), static_cast<std::size_t>(got))));
    done += static_cast<std::uint64_t>(got);
    if (progress) progress(done, total);
    KBIX_TRY(request_more());
  }
  if (sftp_close(remote.release()) != SSH_OK) {
    return fail(session_failure(session, "closing " + path));
  }
  if (done != total) {
    return fail("sftp.size_mismatch", path + ": received " + std::to_string(done) +
                                          " bytes, expected " + std::to_string(total));
  }
  KBIX_TRY(local.commit());
  spdlog::info("sftp: downloaded {} ({} bytes)", path, done);
  return done;
}

Result<RemoteListing> SftpClient::list(const std::string& remote_dir) {
  KBIX_REQUIRE_SESSION();
  Session& session = *session_;
  DeadlineWatchdog watchdog(session, session.settings.operation_deadline);
  sftp_dir dir = sftp_opendir(session.sftp, remote_dir.c_str());
  if (dir == nullptr) return fail(session_failure(session, "listing " + remote_dir));
  RemoteListing listing;
  while (AttributesHandle attributes{sftp_readdir(session.sftp, dir)}) {
    const std::string name = attributes->name != nullptr ? attributes->name : "";
    if (name == "." || name == "..") continue;
    if (auto valid = validate_remote_name(name); !valid) {
      spdlog::warn("sftp: {}: ignoring a remote name: {}", remote_dir, valid.error().describe());
      listing.rejected.push_back({escape_remote_name(name), valid.error().code});
      continue;
    }
    listing.entries.push_back(to_entry(name, *attributes));
  }
  const bool complete = sftp_dir_eof(dir) != 0;
  sftp_closedir(dir);
  if (!complete) return fail(session_failure(session, "listing " + remote_dir));
  std::sort(listing.entries.begin(), listing.entries.end(),
            [](const RemoteEntry& a, const RemoteEntry& b) { return a.name < b.name; });
  return listing;
}

Result<RemoteEntry> SftpClient::stat(const std::string& remote_dir, const std::string& name) {
  KBIX_TRY(validate_remote_name(name));
  KBIX_REQUIRE_SESSION();
  Session& session = *session_;
  const std::string path = remote_path(remote_dir, name);
  DeadlineWatchdog watchdog(session, session.settings.operation_deadline);
  AttributesHandle attributes{sftp_lstat(session.sftp, path.c_str())};
  if (!attributes) return fail(session_failure(session, "checking " + path));
  return to_entry(name, *attributes);
}

Status SftpClient::remove(const std::string& remote_dir, const std::string& name) {
  KBIX_TRY(validate_remote_name(name));
  KBIX_REQUIRE_SESSION();
  Session& session = *session_;
  const std::string path = remote_path(remote_dir, name);
  DeadlineWatchdog watchdog(session, session.settings.operation_deadline);
  if (sftp_unlink(session.sftp, path.c_str()) != SSH_OK) {
    return fail(session_failure(session, "removing " + path));
  }
  spdlog::info("sftp: removed {}", path);
  return ok();
}

}  // namespace kbix
