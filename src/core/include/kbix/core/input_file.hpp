// InputFile: a file from a place others may write (the operator's inbox), opened once and read
// only through that one descriptor (issue 13 item 3).
//
// open() uses O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, so a symbolic link (also one that
// points to itself) is refused without being followed and a FIFO cannot block the caller; fstat
// must then show a regular file (not a FIFO, directory, device or socket), else the file is
// refused with `code`, a message that names the file and what it is, and never its content.
// Once accepted the descriptor is made blocking again; every later read (the stream, the hash)
// goes through it, so replacing the name afterwards changes nothing.
// Does NOT guarantee: that the file is not changed in place while it is read (size and SHA-256
// are recorded, and a later step compares them).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

class InputFile {
 public:
  // Errors: `code` (not a regular file: a symbolic link, FIFO, directory, device, socket),
  // "io.read" (cannot be opened, e.g. missing or not readable).
  static Result<InputFile> open(const std::filesystem::path& path, ErrorCode code);
  // A descriptor kbix made itself (an anonymous memory file of opened content,
  // kbix/envelope/sealed_bytes.hpp), owned from now on; `label` names it in messages. The same
  // regular-file check, error `code`.
  static Result<InputFile> adopt(int fd, std::filesystem::path label, ErrorCode code);

  InputFile(InputFile&&) noexcept;
  InputFile& operator=(InputFile&&) noexcept;
  ~InputFile();

  int fd() const noexcept { return fd_; }
  std::uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  // A buffered stream over the descriptor from offset 0 (each call rewinds); valid until the
  // next call or the end of this object.
  std::istream& stream();
  // True when a read through the last stream() failed (the stream then simply ended).
  bool read_failed() const;
  // SHA-256 hex of the whole content, read through the descriptor. Error "io.read".
  Result<std::string> sha256_hex();
  // Moves the descriptor's offset back to 0. Error "io.read".
  Status rewind();

 private:
  InputFile(std::filesystem::path path, int fd, std::uint64_t size);
  struct Stream;
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::unique_ptr<Stream> stream_;
};

// What a file type is called in messages ("a symbolic link", "a FIFO", ...).
std::string_view describe_file_type(mode_t mode);

}  // namespace kbix
