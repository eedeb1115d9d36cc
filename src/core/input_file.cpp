#include "kbix/core/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <streambuf>
#include <vector>

#include "kbix/core/digest.hpp"

namespace kbix {

namespace {

// A read-only streambuf over a descriptor it does not own, with a 1 MiB buffer.
class DescriptorBuffer : public std::streambuf {
 public:
  explicit DescriptorBuffer(int fd) : fd_(fd), buffer_(1 << 20) { setg(nullptr, nullptr, nullptr); }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ssize_t got = 0;
    do {
      got = ::read(fd_, buffer_.data(), buffer_.size());
    } while (got < 0 && errno == EINTR);
    if (got < 0) failed_ = true;  // ends the stream; the owner asks read_failed()
    if (got <= 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 public:
  bool failed() const { return failed_; }

 private:
  int fd_;
  std::vector<char> buffer_;
  bool failed_ = false;
};

}  // namespace

struct InputFile::Stream {
  explicit Stream(int fd) : buffer(fd), stream(&buffer) {}
  DescriptorBuffer buffer;
  std::istream stream;
};

std::string_view describe_file_type(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Result<InputFile> InputFile::open(const std::filesystem::path& path, ErrorCode code) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    if (error == ELOOP) {  // O_NOFOLLOW on a symbolic link (a self-loop included)
      return fail(code, path.string() +
                            " is a symbolic link, not a regular file; it is not "
                            "followed (place the file itself there)");
    }
    return fail("io.read", path.string() + ": cannot open for reading: " + std::strerror(error));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    const std::string what(describe_file_type(info.st_mode));
    ::close(fd);
    return fail(code, path.string() + " is " + what + ", not a regular file; it is not read");
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    ::close(fd);
    return fail("io.read", path.string() + ": cannot prepare the descriptor for reading");
  }
  return InputFile(path, fd, static_cast<std::uint64_t>(info.st_size));
}

Result<InputFile> InputFile::adopt(int fd, std::filesystem::path label, ErrorCode code) {
  struct stat info {};
  if (fd < 0 || ::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    const std::string what(fd < 0 ? "not open" : describe_file_type(info.st_mode));
    if (fd >= 0) ::close(fd);
    return fail(code, label.string() + " is " + what + ", not a regular file; it is not read");
  }
  return InputFile(std::move(label), fd, static_cast<std::uint64_t>(info.st_size));
}

InputFile::InputFile(std::filesystem::path path, int fd, std::uint64_t size)
    : path_(std::move(path)), fd_(fd), size_(size) {}

InputFile::InputFile(InputFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(other.size_),
      stream_(std::move(other.stream_)) {}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    stream_ = std::move(other.stream_);
  }
  return *this;
}

InputFile::~InputFile() {
  stream_.reset();
  if (fd_ >= 0) ::close(fd_);
}

Status InputFile::rewind() {
  if (::lseek(fd_, 0, SEEK_SET) != 0) return fail("io.read", path_.string() + ": cannot rewind");
  return ok();
}

std::istream& InputFile::stream() {
  stream_.reset();
  if (!rewind()) {
    stream_ = std::make_unique<Stream>(-1);
    stream_->stream.setstate(std::ios::badbit);
    return stream_->stream;
  }
  stream_ = std::make_unique<Stream>(fd_);
  return stream_->stream;
}

bool InputFile::read_failed() const {
  return stream_ && stream_->buffer.failed();
}

Result<std::string> InputFile::sha256_hex() {
  KBIX_TRY(rewind());
  Sha256 hash;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    const ssize_t got = ::read(fd_, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return fail("io.read", path_.string() + ": read error");
    if (got == 0) break;
    hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
  }
  return to_hex(hash.finish());
}

}  // namespace kbix
