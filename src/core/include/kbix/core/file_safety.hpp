// Small file-system guarantees the whole project leans on.
//
// AtomicFile: write a file under a temporary name in the target directory and make it visible
// under its final name only on commit() (fsync file, rename, fsync directory). A reader never sees
// a partial file; an AtomicFile destroyed without commit() removes its temporary file.
//
// check_private_file: invariant 7, a private key readable by group or others is refused.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

class AtomicFile {
 public:
  // Creates "<dir>/.<name>.tmp-XXXXXX" with `mode` (O_EXCL). Error code "io.create".
  static Result<AtomicFile> create(const std::filesystem::path& final_path, mode_t mode = 0600);
  // Like create(), but commit() refuses to replace an existing final file ("io.exists").
  static Result<AtomicFile> create_new(const std::filesystem::path& final_path, mode_t mode = 0600);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const noexcept { return fd_; }
  const std::filesystem::path& temp_path() const noexcept { return temp_path_; }
  const std::filesystem::path& final_path() const noexcept { return final_path_; }

  Status write(std::string_view bytes);  // whole buffer or error "io.write"
  Status commit();                       // fsync, rename, fsync dir
  void discard() noexcept;               // remove the temporary file now

 private:
  AtomicFile(std::filesystem::path final_path, std::filesystem::path temp_path, int fd,
             bool no_replace);
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  bool no_replace_ = false;
  bool done_ = false;
};

// Writes a whole file atomically.
Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                             mode_t mode = 0600);

// fsyncs a directory so a rename or unlink in it is durable.
Status sync_directory(const std::filesystem::path& dir);

// Reads a small file whole (keys, passphrases, certificates): at most `limit` bytes, else an
// error; read errors are values, never exceptions; the buffer is cleansed when it is refused.
// Errors carry `error_code` and name the file.
Result<std::string> read_small_file(const std::filesystem::path& file, std::size_t limit,
                                    ErrorCode error_code);

// Refuses a file holding secret key material when group or others may read or write it.
// Error code "security.key_file_mode"; the message names the file and its octal mode.
Status check_private_file(const std::filesystem::path& file);

}  // namespace kbix
