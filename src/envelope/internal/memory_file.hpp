// An anonymous memory file (memfd_create): no name in any file system, gone when the process
// ends, however it ends. Its content is overwritten with zeros before it is closed, through
// write(2) rather than a mapping, so wiping a large file does not map it into the process (its
// pages never count in the resident set). Internal to the module.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "kbix/core/result.hpp"

namespace kbix::envelope_detail {

class MemoryFile {
 public:
  static Result<MemoryFile> create(const char* name) {
    const int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
      return fail("io.memory",
                  std::string("cannot create an anonymous memory file: ") + std::strerror(errno));
    }
    return MemoryFile(fd);
  }
  MemoryFile(MemoryFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  MemoryFile& operator=(MemoryFile&&) = delete;
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() {
    if (fd_ < 0) return;
    wipe();
    ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

  Status write_all(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        return fail("io.memory", std::string("cannot write to an anonymous memory file: ") +
                                     std::strerror(errno));
      }
      bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
    return ok();
  }

 private:
  explicit MemoryFile(int fd) : fd_(fd) {}
  // Overwrites the content in place, then gives the pages back to the kernel.
  void wipe() noexcept {
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    static constexpr std::array<char, 64 * 1024> kZeros{};
    for (off_t at = 0; at < size;) {
      const auto length =
          static_cast<std::size_t>(std::min<off_t>(size - at, static_cast<off_t>(kZeros.size())));
      const ssize_t written = ::pwrite(fd_, kZeros.data(), length, at);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) break;
      at += written;
    }
    (void)::ftruncate(fd_, 0);
  }
  int fd_ = -1;
};

}  // namespace kbix::envelope_detail
