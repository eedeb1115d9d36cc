// File streams with a 1 MiB buffer, for the steps that stream CSV files of hundreds of MB (the
// export, the merge, the output scan, the privacy reports). The default buffer of a file stream
// is a few KiB, which turns one pass over such a file into hundreds of thousands of system calls.
//
// BufferedOutput creates (or truncates) its file with the process umask (kbix sets 077 at start,
// so 0600); close() reports a failed write, a full disk for example, as "io.write" naming the
// file. Does NOT guarantee: atomicity or durability (AtomicFile in file_safety.hpp does).
#pragma once

#include <filesystem>
#include <fstream>
#include <istream>
#include <ostream>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix {

class BufferedInput {
 public:
  explicit BufferedInput(const std::filesystem::path& file) : buffer_(kBufferBytes) {
    stream_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    stream_.open(file, std::ios::binary);
  }
  static constexpr std::size_t kBufferBytes = 1 << 20;
  bool good() const { return stream_.is_open() && stream_.good(); }
  std::istream& stream() { return stream_; }

 private:
  std::vector<char> buffer_;
  std::ifstream stream_;
};

class BufferedOutput {
 public:
  explicit BufferedOutput(const std::filesystem::path& file)
      : file_(file), buffer_(BufferedInput::kBufferBytes) {
    stream_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    stream_.open(file, std::ios::binary | std::ios::trunc);
  }
  bool good() const { return stream_.is_open() && stream_.good(); }
  std::ostream& stream() { return stream_; }
  Status close() {
    stream_.flush();
    const bool written = stream_.good();
    stream_.close();
    if (!written || stream_.fail()) {
      return fail("io.write", "cannot write " + file_.string() + " (disk full?)");
    }
    return ok();
  }

 private:
  std::filesystem::path file_;
  std::vector<char> buffer_;
  std::ofstream stream_;
};

}  // namespace kbix
