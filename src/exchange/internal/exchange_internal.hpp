// Internal helpers of the exchange steps (not a public header).
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "kbix/core/utc_time.hpp"
#include "kbix/core/result.hpp"

namespace kbix::detail {

// An input file stream with a 1 MiB buffer (the CSV steps read hundreds of MB).
class BufferedInput {
 public:
  explicit BufferedInput(const std::filesystem::path& file) : buffer_(1 << 20) {
    stream_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    stream_.open(file, std::ios::binary);
  }
  bool good() const { return stream_.is_open() && stream_.good(); }
  std::istream& stream() { return stream_; }

 private:
  std::vector<char> buffer_;
  std::ifstream stream_;
};

// An output file stream (mode 0600 via the process umask set at start) with a 1 MiB buffer;
// close() reports a failed write (a full disk) as "io.write".
class BufferedOutput {
 public:
  explicit BufferedOutput(const std::filesystem::path& file) : file_(file), buffer_(1 << 20) {
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

}  // namespace kbix::detail
