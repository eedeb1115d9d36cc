// A file written once from its start, for the merged output of a run (issue 17): the SHA-256 of the
// bytes written is taken as they are written, so the file need not be read again for it, and the
// write-back of what is written is started behind the writer (sync_file_range), so the fsync that
// makes the file durable finds little left to write.
//
// Creates (or truncates) its file with `mode` under the process umask (0666 by default, as
// BufferedOutput does), never through a symbolic link (O_NOFOLLOW); close() reports
// a failed write, a full disk for example, as "io.write" naming the file. Every byte given to
// stream() is hashed once and handed to write(2) in order, so after a close() that succeeded the
// file holds exactly the bytes hashed (unless something else writes to it).
// Does NOT guarantee: durability (fsync the file) or atomicity (AtomicFile in file_safety.hpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "kbix/core/result.hpp"

namespace kbix {

class HashedOutput {
 public:
  explicit HashedOutput(const std::filesystem::path& file, mode_t mode = 0666);
  ~HashedOutput();
  HashedOutput(const HashedOutput&) = delete;
  HashedOutput& operator=(const HashedOutput&) = delete;

  bool good() const;
  std::ostream& stream();
  Status close();
  // The SHA-256 (lowercase hex) of every byte written; after a close() that succeeded.
  std::string sha256_hex();

 private:
  class Buffer;
  std::filesystem::path file_;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
};

}  // namespace kbix
