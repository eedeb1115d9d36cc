#include "kbix/domain/output_scan.hpp"

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "internal/output_pieces.hpp"
#include "internal/pieces.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"

namespace kbix {

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_separator(char c) {
  return c == '.' || c == '-' || c == '/' || c == ' ';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_lower_hex_letter(char c) {
  return c >= 'a' && c <= 'f';
}

// A digest-shaped word: 16, 32, 40 or 64 lowercase hex characters with at least one letter (a key
// id, a pseudo_id, a SHA-1 or SHA-256 that kbix writes). One 32-character pseudonym in 1,000 and
// one SHA-256 in 400 hold an 11-digit window that passes the check by chance (measured over
// 200,000 hashes); a window wholly inside such a word is skipped, so that a file hash in an audit
// entry or a keyed pseudonym never blocks by luck. An INSZ glued into a word of exactly that shape
// would have to replace hex characters of a digest, which no step of kbix does.
bool is_digest_token(std::string_view token) {
  const std::size_t n = token.size();
  if (n != 16 && n != 32 && n != 40 && n != 64) return false;
  bool letter = false;
  for (char c : token) {
    if (is_lower_hex_letter(c)) {
      letter = true;
    } else if (!is_digit(c)) {
      return false;
    }
  }
  return letter;
}

// The month and checksum rules on the 11 digits of `ring`, read from slot `oldest` on.
bool window_passes(const char (&ring)[11], std::size_t oldest) {
  char digits[11];
  for (std::size_t k = 0; k < 11; ++k) digits[k] = ring[(oldest + k) % 11];
  return is_valid_insz_digits(std::string_view(digits, 11));
}

// True when text[first..last] lies inside one word (no separator in between) that is
// digest-shaped. Asked only for a window that passes, which is rare: the common path stays one
// pass over the bytes.
bool inside_digest_token(std::string_view text, std::size_t first, std::size_t last) {
  if (last - first != 10) return false;  // separators inside: a written number, not a digest
  std::size_t begin = first, end = last + 1;
  while (begin > 0 && is_alnum(text[begin - 1])) --begin;
  while (end < text.size() && is_alnum(text[end])) ++end;
  return is_digest_token(text.substr(begin, end - begin));
}

// kbix's keyed pseudonym: exactly 32 lowercase hex characters (pseudonym.hpp). A cell of the
// pseudo_id column in that shape is HMAC output, not data; in any other shape it is scanned.
constexpr std::string_view kPseudoIdColumn = "pseudo_id";
bool is_pseudo_id(std::string_view cell) {
  if (cell.size() != 32) return false;
  for (char c : cell) {
    if (!is_digit(c) && !is_lower_hex_letter(c)) return false;
  }
  return true;
}
}  // namespace

bool contains_insz_like_number(std::string_view text) {
  // A window is 11 digits, so a text with fewer holds none: most cells end after this one pass
  // without branches (issue 17: the scan of every output cell).
  std::size_t digit_count = 0;
  for (const char c : text) digit_count += is_digit(c) ? 1 : 0;
  if (digit_count < 11) return false;
  const std::size_t n = text.size();
  char ring[11];
  std::size_t where[11];  // position in `text` of each digit in `ring`
  std::size_t run = 0;    // digits in the current number (digit groups joined by one separator)
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      ring[run % 11] = c;
      where[run % 11] = i;
      ++run;
      if (run >= 11 && window_passes(ring, run % 11) &&
          !inside_digest_token(text, where[run % 11], i)) {
        return true;
      }
    } else if (!(run > 0 && is_separator(c) && i + 1 < n && is_digit(text[i + 1]))) {
      run = 0;
    }
  }
  return false;
}

namespace {
// Whether `record` (a record's bytes as written, quotes and all) has 11 or more bytes in a row that
// are digits or the separators the check joins digit groups with (. - / and space: 0x2d..0x39 and
// 0x20). contains_insz_like_number finds a number only in such a stretch of one cell, and a cell's
// text is in its record's bytes with at most quotes taken away or undoubled, which are not among
// them: a record without a stretch holds no cell the check flags, so its cells need no check. The
// output's dates (10 bytes) make none; most records end after this one pass (issue 17).
#ifdef __SSE2__
std::uint32_t number_byte_mask(const char* p) {
  const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i in_range = _mm_and_si128(_mm_cmpgt_epi8(chunk, _mm_set1_epi8('-' - 1)),
                                         _mm_cmplt_epi8(chunk, _mm_set1_epi8('9' + 1)));
  const __m128i space = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(' '));
  return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_or_si128(in_range, space)));
}

// True when `bits` has 11 set bits in a row: each step keeps the bits that start a longer row.
bool has_eleven_in_a_row(std::uint32_t bits) {
  bits &= bits >> 1;  // 2 in a row
  bits &= bits >> 2;  // 4
  bits &= bits >> 4;  // 8
  bits &= bits >> 3;  // 11
  return bits != 0;
}

bool may_hold_insz_like_number(std::string_view record) {
  // Two 16-byte chunks at a time: a stretch of 11 lies within the previous chunk and this one.
  std::uint32_t previous = 0;
  std::size_t i = 0;
  for (; i + 16 <= record.size(); i += 16) {
    const std::uint32_t current = number_byte_mask(record.data() + i);
    if (has_eleven_in_a_row(previous | (current << 16))) return true;
    previous = current;
  }
  if (i == record.size()) return false;
  char tail[16] = {};  // zero bytes are not number bytes
  std::memcpy(tail, record.data() + i, record.size() - i);
  return has_eleven_in_a_row(previous | (number_byte_mask(tail) << 16));
}
#else
bool may_hold_insz_like_number(std::string_view record) {
  std::size_t run = 0;
  for (const char c : record) {
    run = is_digit(c) || is_separator(c) ? run + 1 : 0;
    if (run >= 11) return true;
  }
  return false;
}
#endif

Result<ScanReport> scan(std::istream& output_csv, std::string_view output_name,
                        std::string_view key_column, OutputObserver* observer) {
  CsvReader reader(output_csv, std::string(output_name));
  ScanReport report;
  std::vector<std::string_view> fields;
  bool header = true;
  std::size_t pseudo_column = std::string_view::npos;
  for (;;) {
    KBIX_ASSIGN_OR_RETURN(auto more, reader.next(fields));
    if (!more) break;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (header && fields[i] == key_column) {
        return fail("scan.key_column", reader.where(i + 1) + "the output has a '" +
                                           std::string(key_column) +
                                           "' column; publication blocked");
      }
      if (header && fields[i] == kPseudoIdColumn) pseudo_column = i;
      ++report.cells;
      if (!header && i == pseudo_column && is_pseudo_id(fields[i])) continue;
      if (contains_insz_like_number(fields[i])) {
        return fail(
            "scan.insz_found",
            reader.where(i + 1) + "a number that passes the INSZ check; publication blocked");
      }
    }
    if (observer != nullptr) KBIX_TRY(observer->record(fields, reader.place()));
    if (!header) ++report.rows;
    header = false;
  }
  return report;
}
}  // namespace

Result<ScanReport> scan_output(std::istream& output_csv, std::string_view output_name,
                               std::string_view key_column) {
  return scan(output_csv, output_name, key_column, nullptr);
}

Result<ScanReport> scan_output(std::istream& output_csv, std::string_view output_name,
                               OutputObserver& observer, std::string_view key_column) {
  return scan(output_csv, output_name, key_column, &observer);
}

namespace detail {

OutputPieces::OutputPieces(std::string_view source, std::string_view key_column,
                           OutputObserver* observer)
    : source_(source), key_column_(key_column), observer_(observer) {}

bool OutputPieces::header(CsvReader& reader) {
  std::vector<std::string_view> fields;
  auto more = reader.next(fields);
  if (!more || !*more) return false;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i] == key_column_ || contains_insz_like_number(fields[i])) return false;
    if (fields[i] == kPseudoIdColumn) pseudo_column_ = i;
    ++report_.cells;
  }
  line_ = reader.line();
  return observer_ == nullptr || observer_->record(fields, reader.place()).has_value();
}

bool OutputPieces::scan(std::string_view piece, Work& work) const {
  work.counts = {};
  work.cells.clear();
  work.records.clear();
  work.copied.clear();
  const bool keep = observer_ != nullptr;
  if (keep && piece.size() >= Cell::kCopied) return false;  // offsets are 31 bits
  CsvReader reader(piece, source_, limits_, false);
  for (;;) {
    const std::size_t start = reader.consumed();
    auto more = reader.next(work.fields);
    if (!more) return false;
    if (!*more) {
      work.lines = reader.line() - 1;
      return true;
    }
    work.counts.cells += work.fields.size();
    ++work.counts.rows;
    if (keep) keep_record(piece, reader.record_line() - 1, work);
    if (!may_hold_insz_like_number(piece.substr(start, reader.consumed() - start))) continue;
    for (std::size_t i = 0; i < work.fields.size(); ++i) {
      if (i == pseudo_column_ && is_pseudo_id(work.fields[i])) continue;
      if (contains_insz_like_number(work.fields[i])) return false;
    }
  }
}

// A field read in place is kept as its offset in the piece; one the reader unescaped (a quoted
// field) lives in the reader's buffer only until the next record, so it is copied.
void OutputPieces::keep_record(std::string_view piece, std::uint64_t line, Work& work) {
  work.records.push_back({static_cast<std::uint32_t>(work.cells.size()), line});
  const std::less<const char*> before;
  for (const std::string_view field : work.fields) {
    const auto size = static_cast<std::uint32_t>(field.size());
    if (!before(field.data(), piece.data()) && !before(piece.data() + piece.size(), field.data())) {
      work.cells.push_back({static_cast<std::uint32_t>(field.data() - piece.data()), size});
    } else {
      work.cells.push_back({static_cast<std::uint32_t>(work.copied.size()) | Cell::kCopied, size});
      work.copied += field;
    }
  }
}

bool OutputPieces::consume(std::string_view piece, const Work& work) {
  report_.rows += work.counts.rows;
  report_.cells += work.counts.cells;
  if (report_.rows + 1 > limits_.max_records) return false;  // the header is a record
  if (observer_ == nullptr) return true;
  for (std::size_t r = 0; r < work.records.size(); ++r) {
    const std::size_t end =
        r + 1 < work.records.size() ? work.records[r + 1].first_cell : work.cells.size();
    fields_.clear();
    for (std::size_t c = work.records[r].first_cell; c < end; ++c) {
      const Cell cell = work.cells[c];
      const std::string_view text = (cell.offset & Cell::kCopied) != 0 ? work.copied : piece;
      fields_.push_back(text.substr(cell.offset & ~Cell::kCopied, cell.size));
    }
    if (!observer_->record(fields_, RecordPlace{source_, line_ + work.records[r].line})) {
      return false;
    }
  }
  line_ += work.lines;
  return true;
}

}  // namespace detail

namespace {
struct ScanWork {
  detail::OutputPieces::Work work;
  std::string_view bytes;  // the piece, kept until it is consumed
};

// The scan in pieces (file_pieces.hpp); false when they are refused, also for a finding (the
// sequential scan then names it).
// An observer sees the records on the calling thread, in file order, read from the piece again
// while the workers scan the next ones; any error it returns refuses the pieces too.
bool scan_in_pieces(int fd, std::string_view name, std::string_view key_column,
                    const FileReading& reading, ScanReport& report, OutputObserver* observer) {
  detail::OutputPieces pieces(name, key_column, observer);
  const auto header = detail::header_for_pieces(
      fd, name, reading, [&](CsvReader& reader) { return pieces.header(reader); });
  if (!header) return false;
  auto map = [&](std::string_view bytes, std::uint64_t, ScanWork& work) {
    work.bytes = bytes;
    return pieces.scan(bytes, work.work);
  };
  auto consume = [&](ScanWork& work) { return pieces.consume(work.bytes, work.work); };
  detail::PieceReader reader(fd, header->offset, header->size, reading);
  if (!detail::for_each_piece<ScanWork>(reader, reading, map, consume)) return false;
  report = pieces.report();
  return true;
}
}  // namespace

Result<ScanReport> scan_output(int fd, std::istream& sequential, std::string_view output_name,
                               std::string_view key_column, const FileReading& reading) {
  ScanReport report;
  if (scan_in_pieces(fd, output_name, key_column, reading, report, nullptr)) return report;
  return scan_output(sequential, output_name, key_column);
}

Result<ScanReport> scan_output(int fd, std::istream& sequential, std::string_view output_name,
                               OutputObserver& observer, std::string_view key_column,
                               const FileReading& reading) {
  ScanReport report;
  if (scan_in_pieces(fd, output_name, key_column, reading, report, &observer)) return report;
  observer.clear();  // it saw some records already: the sequential scan shows it every one
  return scan(sequential, output_name, key_column, &observer);
}

}  // namespace kbix
