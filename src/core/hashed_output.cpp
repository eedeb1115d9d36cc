#include "kbix/core/hashed_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <streambuf>
#include <vector>

#include "kbix/core/digest.hpp"

namespace kbix {

class HashedOutput::Buffer : public std::streambuf {
 public:
  Buffer(const std::filesystem::path& file, mode_t mode)
      : fd_(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)),
        buffer_(kBufferBytes) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  ~Buffer() override {
    if (fd_ >= 0) ::close(fd_);
  }
  bool good() const { return fd_ >= 0 && !failed_; }
  // Writes what is buffered and closes the file; false when any write failed.
  bool close() {
    const bool flushed = flush();
    const bool closed = fd_ >= 0 && ::close(fd_) == 0;
    fd_ = -1;
    return flushed && closed && !failed_;
  }
  Sha256Digest digest() { return hash_.finish(); }

 protected:
  int_type overflow(int_type c) override {
    if (!flush()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* data, std::streamsize count) override {
    const auto n = static_cast<std::size_t>(count);
    if (n <= static_cast<std::size_t>(epptr() - pptr())) {
      std::memcpy(pptr(), data, n);
      pbump(static_cast<int>(n));
      return count;
    }
    // A large write (a merged piece) goes straight to the file, after what is buffered.
    if (!flush() || !write_out(data, n)) return 0;
    return count;
  }
  int sync() override { return flush() ? 0 : -1; }

 private:
  static constexpr std::size_t kBufferBytes = 1 << 20;
  // Write-back is started for every this many bytes written.
  static constexpr std::uint64_t kWriteBackBytes = 8u << 20;

  bool flush() {
    const auto n = static_cast<std::size_t>(pptr() - pbase());
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return write_out(buffer_.data(), n);
  }
  bool write_out(const char* data, std::size_t n) {
    if (failed_ || fd_ < 0) return false;
    hash_.update(std::string_view(data, n));
    while (n > 0) {
      const ssize_t wrote = ::write(fd_, data, n);
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote <= 0) {
        failed_ = true;
        return false;
      }
      data += wrote;
      n -= static_cast<std::size_t>(wrote);
      written_ += static_cast<std::uint64_t>(wrote);
    }
    if (written_ - started_ >= kWriteBackBytes) {
      // Only starts the write-back of the range (it does not wait for it): best effort, an
      // error here changes nothing of what the file holds.
      ::sync_file_range(fd_, static_cast<off_t>(started_), static_cast<off_t>(written_ - started_),
                        SYNC_FILE_RANGE_WRITE);
      started_ = written_;
    }
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  Sha256 hash_;
  std::uint64_t written_ = 0;
  std::uint64_t started_ = 0;  // write-back started for [0, started_)
  bool failed_ = false;
};

HashedOutput::HashedOutput(const std::filesystem::path& file, mode_t mode)
    : file_(file),
      buffer_(std::make_unique<Buffer>(file, mode)),
      stream_(std::make_unique<std::ostream>(buffer_.get())) {}
HashedOutput::~HashedOutput() = default;

bool HashedOutput::good() const {
  return buffer_->good() && stream_->good();
}
std::ostream& HashedOutput::stream() {
  return *stream_;
}
Status HashedOutput::close() {
  stream_->flush();
  const bool written = stream_->good();
  if (!buffer_->close() || !written) {
    return fail("io.write", "cannot write " + file_.string() + " (disk full?)");
  }
  return ok();
}
std::string HashedOutput::sha256_hex() {
  return to_hex(buffer_->digest());
}

}  // namespace kbix
