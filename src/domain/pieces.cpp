#include "internal/pieces.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix::detail {

namespace {
std::size_t count_quotes(const char* p, const char* end) {
  std::size_t quotes = 0;
  while ((p = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p))))) {
    ++quotes;
    ++p;
  }
  return quotes;
}
}  // namespace

bool read_at(int fd, std::uint64_t at, std::size_t length, std::string& bytes) {
  bytes.resize(length);
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd, bytes.data() + got, length - got, static_cast<off_t>(at + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return true;
}

std::uint64_t regular_file_size(int fd) {
  struct stat status {};
  if (fd < 0 || ::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) return 0;
  return static_cast<std::uint64_t>(status.st_size);
}

bool PieceReader::next(std::string& bytes) {
  if (failed_ || position_ >= size_) return false;
  // A record is at most max_record_bytes long, so in an accepted file this window holds a
  // record end; growing it once more only tolerates a long record at a piece's start.
  std::size_t window = reading_.piece_bytes;
  const std::size_t longest = reading_.piece_bytes + 2 * reading_.max_record_bytes + 2;
  for (;;) {
    const std::uint64_t rest = size_ - position_;
    const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(window, rest));
    if (!read_at(fd_, position_, length, bytes) || bytes.size() != length) {
      failed_ = true;
      return false;
    }
    if (length == rest) {  // the rest of the file is the last piece
      position_ = size_;
      return true;
    }
    const char* begin = bytes.data();
    const char* end = static_cast<const char*>(::memrchr(begin, '\n', length));
    std::size_t quotes = end == nullptr ? 0 : count_quotes(begin, end);
    while (end != nullptr && quotes % 2 != 0) {  // inside a quoted field: an earlier line end
      const char* earlier =
          static_cast<const char*>(::memrchr(begin, '\n', static_cast<std::size_t>(end - begin)));
      quotes -= count_quotes(earlier == nullptr ? begin : earlier, end);
      end = earlier;
    }
    if (end != nullptr) {
      bytes.resize(static_cast<std::size_t>(end - begin) + 1);
      position_ += bytes.size();
      return true;
    }
    if (window >= longest) {
      failed_ = true;
      return false;
    }
    window = std::min(window * 2, longest);
  }
}

std::optional<HeaderAt> header_for_pieces(int fd, std::string_view name, const FileReading& reading,
                                          const std::function<bool(CsvReader&)>& check) {
  const std::uint64_t size = regular_file_size(fd);
  if (size < reading.parallel_from || size == 0) return std::nullopt;
  std::string first;
  const auto length = static_cast<std::size_t>(
      std::min<std::uint64_t>(size, reading.max_record_bytes + std::uint64_t{8}));
  if (!read_at(fd, 0, length, first) || first.size() != length) return std::nullopt;
  CsvReader reader(first, std::string(name), CsvLimits{}, true);
  // A header that reaches the end of these bytes may go on: the sequential path decides.
  if (!check(reader) || reader.consumed() >= first.size()) return std::nullopt;
  return HeaderAt{reader.consumed(), reader.line(), size};
}

std::optional<HeaderAt> header_for_pieces(int fd, std::string_view name, const FileReading& reading,
                                          const std::vector<std::string>& expected,
                                          std::size_t& columns) {
  return header_for_pieces(fd, name, reading, [&](CsvReader& reader) {
    auto got = read_header(reader, expected);
    if (got) columns = *got;
    return got.has_value();
  });
}

std::optional<TablePieces> table_pieces(int fd, std::string_view name, const FileReading& reading,
                                        const std::vector<std::string>& expected,
                                        const std::string& key_column) {
  TablePieces pieces;
  const auto header = header_for_pieces(fd, name, reading, expected, pieces.columns);
  if (!header) return std::nullopt;
  pieces.header = *header;
  pieces.key = static_cast<std::size_t>(std::find(expected.begin(), expected.end(), key_column) -
                                        expected.begin());
  pieces.source = std::string(name);
  return pieces;
}

}  // namespace kbix::detail
