#include "kbix/core/file_safety.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace kbix {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path final_path, std::filesystem::path temp_path, int fd,
                       bool no_replace)
    : final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      no_replace_(no_replace) {}

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& final_path, mode_t mode) {
  const auto dir = final_path.has_parent_path() ? final_path.parent_path() : ".";
  std::string pattern = (dir / ("." + final_path.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    return fail("io.create",
                final_path.string() + ": cannot create a temporary file: " + errno_text());
  }
  if (::fchmod(fd, mode) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    ::unlink(name.data());
    return fail("io.create", final_path.string() + ": cannot set file mode: " + why);
  }
  return AtomicFile(final_path, std::filesystem::path(name.data()), fd, false);
}

Result<AtomicFile> AtomicFile::create_new(const std::filesystem::path& final_path, mode_t mode) {
  auto file = create(final_path, mode);
  if (file) file->no_replace_ = true;
  return file;
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(other.fd_),
      no_replace_(other.no_replace_),
      done_(other.done_) {
  other.fd_ = -1;
  other.done_ = true;
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    final_path_ = std::move(other.final_path_);
    temp_path_ = std::move(other.temp_path_);
    fd_ = other.fd_;
    no_replace_ = other.no_replace_;
    done_ = other.done_;
    other.fd_ = -1;
    other.done_ = true;
  }
  return *this;
}

AtomicFile::~AtomicFile() {
  discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!done_) {
    ::unlink(temp_path_.c_str());
    done_ = true;
  }
}

Status AtomicFile::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return fail("io.write", temp_path_.string() + ": write failed: " + errno_text());
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return ok();
}

Status AtomicFile::commit() {
  if (done_) return fail("io.commit", final_path_.string() + ": file already committed");
  if (::fsync(fd_) != 0) {
    return fail("io.write", temp_path_.string() + ": fsync failed: " + errno_text());
  }
  ::close(fd_);
  fd_ = -1;
  if (no_replace_) {
    // link() fails with EEXIST instead of replacing: the final name is never overwritten.
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
      const bool exists = errno == EEXIST;
      const std::string why = errno_text();
      discard();
      return fail(exists ? ErrorCode("io.exists") : ErrorCode("io.rename"),
                  final_path_.string() +
                      (exists ? ": already exists, not replaced" : ": cannot publish: " + why));
    }
    ::unlink(temp_path_.c_str());
  } else if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    const std::string why = errno_text();
    discard();
    return fail("io.rename", final_path_.string() + ": cannot rename into place: " + why);
  }
  done_ = true;
  const auto dir = final_path_.has_parent_path() ? final_path_.parent_path() : ".";
  return sync_directory(dir);
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                             mode_t mode) {
  auto file = AtomicFile::create(path, mode);
  if (!file) return fail(std::move(file).error());
  KBIX_TRY(file->write(bytes));
  return file->commit();
}

Status sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail("io.sync", dir.string() + ": cannot open directory: " + errno_text());
  const int rc = ::fsync(fd);
  const std::string why = rc != 0 ? errno_text() : "";
  ::close(fd);
  if (rc != 0) return fail("io.sync", dir.string() + ": fsync failed: " + why);
  return ok();
}

Status check_private_file(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    return fail("security.key_file_missing", file.string() + ": cannot read: " + errno_text());
  }
  if (!S_ISREG(info.st_mode)) {
    return fail("security.key_file_type", file.string() + ": is not a regular file");
  }
  if ((info.st_mode & 077) != 0) {
    return fail("security.key_file_mode",
                file.string() + ": mode " + octal_mode(info.st_mode) +
                    " lets group or others access a private key; run chmod 600 on it");
  }
  return ok();
}

Result<std::string> read_small_file(const std::filesystem::path& file, std::size_t limit,
                                    ErrorCode error_code) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(error_code, file.string() + ": cannot open: " + std::strerror(errno));
  std::string bytes(limit + 1, '\0');  // one byte more than allowed shows a file that is too big
  std::size_t got = 0;
  int read_errno = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (read_errno != 0 || got > limit) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return fail(error_code,
                file.string() + (read_errno != 0
                                     ? ": read failed: " + std::string(std::strerror(read_errno))
                                     : ": larger than " + std::to_string(limit) + " bytes"));
  }
  bytes.resize(got);  // shrinking never reallocates: no uncleansed copy is left behind
  return bytes;
}

}  // namespace kbix
