// Internal helpers of the exchange steps (not a public header).
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/runs/run_state.hpp"

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

namespace kbix {
// Test-only crash hook (DESIGN.md inv. 8 tests): when KBIX_TEST_KILL_AFTER names a state, the
// process sends itself SIGKILL right after committing that state. Inside the upload step,
// "upload_renaming" kills it after the temporary name is committed and before the remote rename,
// "upload_renamed" after the rename and before `uploaded` is committed; "merge_opened" in the
// merge once both plaintexts are in work/.
void maybe_kill_after(RunState reached);
void maybe_kill_at(std::string_view point);
}  // namespace kbix
