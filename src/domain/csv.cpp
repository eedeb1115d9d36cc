#include "kbix/domain/csv.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace kbix {

namespace {

// The bytes that end a run of ordinary bytes, outside and inside quotes.
constexpr std::array<bool, 256> special_table(bool quoted) {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>('"')] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[0] = true;
  if (!quoted) {
    table[static_cast<unsigned char>(';')] = true;
    table[static_cast<unsigned char>('\r')] = true;
  }
  return table;
}
constexpr auto kSpecialOutside = special_table(false);
constexpr auto kSpecialInside = special_table(true);

#ifdef __SSE2__
// The bytes of `chunk` that may end an ordinary run: '"', LF, NUL and, outside quotes, ';', CR.
__m128i special_bytes(__m128i chunk, bool quoted) {
  const __m128i quote = _mm_set1_epi8('"'), newline = _mm_set1_epi8('\n');
  const __m128i nul = _mm_setzero_si128(), separator = _mm_set1_epi8(';'),
                carriage = _mm_set1_epi8('\r');
  __m128i hits =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, newline)),
                   _mm_cmpeq_epi8(chunk, nul));
  if (!quoted) {
    hits = _mm_or_si128(
        hits, _mm_or_si128(_mm_cmpeq_epi8(chunk, separator), _mm_cmpeq_epi8(chunk, carriage)));
  }
  return hits;
}
#endif

// The first byte in [p, end) that may end an ordinary run: 16 bytes at a time with SSE2 (every
// x86-64 has it), then a table for the tail.
const char* find_special(const char* p, const char* end, bool quoted) {
#ifdef __SSE2__
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(special_bytes(chunk, quoted));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  const auto& table = quoted ? kSpecialInside : kSpecialOutside;
  while (p < end && !table[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

// True when `value` holds ';', '"', CR or LF (the bytes a field is quoted for).
bool has_byte_to_quote(std::string_view value) {
  const char* p = value.data();
  const char* end = p + value.size();
  for (;;) {
    p = find_special(p, end, false);
    if (p == end) return false;
    if (*p != '\0') return true;
    ++p;
  }
}

bool is_ascii(std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if ((word & 0x8080808080808080ULL) != 0) return false;
  }
  for (; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) return false;
  }
  return true;
}
}  // namespace

bool is_valid_utf8(std::string_view text) {
  if (is_ascii(text)) return true;
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      code = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      code = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      code = c & 0x07u;
    } else {
      return false;
    }
    if (i + extra >= n) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0u) != 0x80u) return false;
      code = (code << 6) | (next & 0x3Fu);
    }
    if ((extra == 2 && code < 0x800) || (extra == 3 && (code < 0x10000 || code > 0x10FFFF)) ||
        (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

CsvReader::CsvReader(std::istream& in, std::string source_name, CsvLimits limits)
    : in_(&in), source_(std::move(source_name)), limits_(limits), buffer_(kFirstReadBytes) {
  data_ = buffer_.data();
}

CsvReader::CsvReader(std::string_view bytes, std::string source_name, CsvLimits limits,
                     bool at_file_start, std::uint64_t first_line)
    : source_(std::move(source_name)),
      limits_(limits),
      data_(bytes.data()),
      filled_(bytes.size()),
      eof_(true),
      started_(!at_file_start),
      line_(first_line) {}

bool CsvReader::refill() {
  if (eof_) return false;
  // Large reads for large files (fewer calls, one copy out of the page cache); a small input
  // never pays for a 1 MiB buffer.
  if (filled_ == buffer_.size() && buffer_.size() < kReadBytes) buffer_.resize(kReadBytes);
  data_ = buffer_.data();
  in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  filled_ = static_cast<std::size_t>(in_->gcount());
  position_ = 0;
  if (filled_ == 0) eof_ = true;
  return filled_ > 0;
}

int CsvReader::get() {
  if (position_ == filled_ && !refill()) return -1;
  return static_cast<unsigned char>(data_[position_++]);
}

int CsvReader::peek() {
  if (position_ == filled_ && !refill()) return -1;
  return static_cast<unsigned char>(data_[position_]);
}

std::string RecordPlace::where(std::size_t field_number) const {
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(field_number) +
         ": ";
}

Unexpected<Error> CsvReader::error(ErrorCode code, std::uint64_t line, std::size_t field,
                                   const std::string& what) {
  failed_ = true;
  return fail(code,
              source_ + ":" + std::to_string(line) + ":" + std::to_string(field) + ": " + what);
}

// The common record: whole in the buffer, no quote, NUL or CR (but a CRLF end), within every
// limit. It is split with memchr and taken as it is. Anything else (or any doubt) returns false
// with nothing consumed, and the byte-by-byte path below reads the same bytes and gives the
// exact error, so both paths accept and refuse exactly the same inputs.
namespace {
void assign(std::string& field, const char* begin, const char* end) {
  field.assign(begin, end);
}
void assign(std::string_view& field, const char* begin, const char* end) {
  field = std::string_view(begin, static_cast<std::size_t>(end - begin));
}

// Finds the end of the common record starting at `begin`: the line feed, with every ';' before it
// in `separators` (offsets from `begin`) and `stop` at its CR or LF. False (the byte-by-byte path
// decides) when a '"', NUL or bare CR comes first, or no line feed within `longest` bytes.
bool scan_plain_record(const char* begin, const char* end, std::size_t longest,
                       std::vector<std::uint32_t>& separators, const char*& stop, bool& ascii) {
  separators.clear();
  ascii = true;
  if (static_cast<std::size_t>(end - begin) > longest) end = begin + longest;
  const char* p = begin;
  auto special = [&](const char* at) -> int {  // 1: separator, 0: record end, -1: refuse
    if (*at == ';') {
      separators.push_back(static_cast<std::uint32_t>(at - begin));
      return 1;
    }
    if (*at == '\n') {
      stop = at;
      return 0;
    }
    if (*at == '\r' && at + 1 < end && at[1] == '\n') {
      stop = at;
      return 0;
    }
    return -1;
  };
#ifdef __SSE2__
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(special_bytes(chunk, false)));
    const auto high = static_cast<unsigned>(_mm_movemask_epi8(chunk));
    while (mask != 0) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      const int kind = special(p + bit);
      if (kind < 0) return false;
      if (kind == 0) {
        if ((high & ((1u << bit) - 1u)) != 0) ascii = false;
        return true;
      }
      mask &= mask - 1;
    }
    if (high != 0) ascii = false;
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const char c = *p;
    if (c == ';' || c == '\n' || c == '\r' || c == '"' || c == '\0') {
      const int kind = special(p);
      if (kind < 0) return false;
      if (kind == 0) return true;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
    }
  }
  return false;
}

}  // namespace

// The common record: whole in the buffer, no quote, NUL or CR (but a CRLF end), within every
// limit. It is split in one SSE2 pass and taken as it is. Anything else (or any doubt) returns
// false with nothing consumed, and the byte-by-byte path below reads the same bytes and gives the
// exact error, so both paths accept and refuse exactly the same inputs.
template <class Field>
bool CsvReader::next_plain(std::vector<Field>& fields) {
  const char* begin = data_ + position_;
  const char* end = data_ + filled_;
  const char* stop = nullptr;
  bool ascii = true;
  if (!scan_plain_record(begin, end, limits_.max_record_bytes, separators_, stop, ascii)) {
    return false;
  }
  const char* eol = *stop == '\r' ? stop + 1 : stop;
  const std::size_t count = separators_.size() + 1;
  if (count > limits_.max_columns) return false;
  const char* field = begin;
  for (std::size_t i = 0; i < count; ++i) {
    const char* field_end = i + 1 < count ? begin + separators_[i] : stop;
    const auto length = static_cast<std::size_t>(field_end - field);
    if (length > limits_.max_field_bytes) return false;
    if (!ascii && !is_valid_utf8(std::string_view(field, length))) return false;
    field = field_end + 1;
  }
  if (fields.size() < count) fields.resize(count);
  field = begin;
  for (std::size_t i = 0; i < count; ++i) {
    const char* field_end = i + 1 < count ? begin + separators_[i] : stop;
    assign(fields[i], field, field_end);
    field = field_end + 1;
  }
  fields.resize(count);
  position_ = static_cast<std::size_t>(eol + 1 - data_);
  ++line_;
  ++records_;
  return true;
}

// The checks before each record: nullopt to read it, else the answer to return.
std::optional<Result<bool>> CsvReader::start_record() {
  if (failed_) return fail("csv.read", source_ + ": reading stopped after an earlier error");
  if (!started_) {
    started_ = true;
    if (peek() == 0xEF) {  // UTF-8 byte-order mark: tolerated on input
      get();
      if (get() != 0xBB || get() != 0xBF) {
        return error("csv.invalid_utf8", 1, 1, "invalid UTF-8 at the start of the file");
      }
    }
  }
  if (peek() == -1) {
    if (stream_bad()) return error("csv.read", line_, 1, "read error");
    return false;
  }
  if (records_ >= limits_.max_records) {
    return error("csv.too_many_records", line_, 1,
                 "more than " + std::to_string(limits_.max_records) + " records");
  }
  record_line_ = line_;
  return std::nullopt;
}

Result<bool> CsvReader::next(std::vector<std::string_view>& fields) {
  plain_ = false;
  if (auto done = start_record()) {
    fields.clear();
    return std::move(*done);
  }
  plain_ = next_plain(fields);
  if (plain_) return true;
  auto got = next_slow(scratch_);
  fields.assign(scratch_.begin(), scratch_.end());
  return got;
}

Result<bool> CsvReader::next(std::vector<std::string>& fields) {
  plain_ = false;
  if (auto done = start_record()) {
    fields.clear();
    return std::move(*done);
  }
  plain_ = next_plain(fields);
  if (plain_) return true;
  return next_slow(fields);
}

// The byte-by-byte path: every rule, every error.
Result<bool> CsvReader::next_slow(std::vector<std::string>& fields) {
  // The strings of `fields` are reused from record to record: no allocation per field.
  std::size_t count = 0;
  auto slot = [&]() -> std::string& {
    if (count == fields.size()) fields.emplace_back();
    return fields[count];
  };
  slot().clear();
  std::size_t record_bytes = 0;
  bool quoted = false;       // inside a quoted field
  bool after_quote = false;  // the quoted field has closed
  std::uint64_t quote_line = 0;

  auto finish_field = [&]() -> Status {
    if (!is_valid_utf8(fields[count])) {
      return error("csv.invalid_utf8", record_line_, count + 1, "invalid UTF-8");
    }
    if (count + 1 > limits_.max_columns) {
      return error("csv.too_many_columns", record_line_, count + 1,
                   "more than " + std::to_string(limits_.max_columns) + " fields");
    }
    ++count;
    after_quote = false;
    return ok();
  };
  auto finish_record = [&]() {
    fields.resize(count);
    ++records_;
  };

  for (;;) {
    if (position_ == filled_ && !refill()) {
      if (stream_bad()) return error("csv.read", line_, count + 1, "read error");
      if (quoted) {
        return error(
            "csv.unterminated_quote", quote_line, count + 1,
            "quoted field opened on line " + std::to_string(quote_line) + " is never closed");
      }
      KBIX_TRY(finish_field());
      finish_record();
      return true;
    }
    // Fast path: copy a run of ordinary bytes at once, stopping where a limit would be passed.
    const char* begin = data_ + position_;
    const char* end = data_ + filled_;
    const char* p = find_special(begin, end, quoted);
    if (p > begin) {
      if (after_quote) {
        return error("csv.text_after_quote", line_, count + 1,
                     "text after the closing quote of a field");
      }
      std::string& field = fields[count];
      std::size_t n = static_cast<std::size_t>(p - begin);
      n = std::min(
          {n, limits_.max_field_bytes - std::min(field.size(), limits_.max_field_bytes) + 1,
           limits_.max_record_bytes - std::min(record_bytes, limits_.max_record_bytes) + 1});
      field.append(begin, n);
      position_ += n;
      record_bytes += n;
      if (record_bytes > limits_.max_record_bytes) {
        return error("csv.record_too_long", record_line_, count + 1,
                     "record longer than " + std::to_string(limits_.max_record_bytes) + " bytes");
      }
      if (field.size() > limits_.max_field_bytes) {
        return error("csv.field_too_long", record_line_, count + 1,
                     "field longer than " + std::to_string(limits_.max_field_bytes) + " bytes");
      }
      continue;
    }
    const int c = get();
    if (++record_bytes > limits_.max_record_bytes) {
      return error("csv.record_too_long", record_line_, count + 1,
                   "record longer than " + std::to_string(limits_.max_record_bytes) + " bytes");
    }
    if (c == 0) return error("csv.nul_byte", line_, count + 1, "NUL byte");
    if (quoted) {
      if (c == '"') {
        if (peek() == '"') {
          get();
          fields[count] += '"';
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {  // a line feed inside quotes
        ++line_;
        fields[count] += static_cast<char>(c);
      }
    } else if (c == ';') {
      KBIX_TRY(finish_field());
      slot().clear();
      continue;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r') {
        if (peek() != '\n') {
          return error("csv.bare_cr", line_, count + 1,
                       "carriage return without line feed (old Mac line ends?)");
        }
        get();
      }
      ++line_;
      KBIX_TRY(finish_field());
      finish_record();
      return true;
    } else if (after_quote) {
      return error("csv.text_after_quote", line_, count + 1,
                   "text after the closing quote of a field");
    } else {  // c == '"'
      if (!fields[count].empty()) {
        return error("csv.bare_quote", line_, count + 1,
                     "quote inside an unquoted field (quote the field and double the quote)");
      }
      quoted = true;
      quote_line = line_;
    }
    if (fields[count].size() > limits_.max_field_bytes) {
      return error("csv.field_too_long", record_line_, count + 1,
                   "field longer than " + std::to_string(limits_.max_field_bytes) + " bytes");
    }
  }
}

namespace {
bool starts_like_formula(std::string_view value) {
  return !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' ||
                            value[0] == '@' || value[0] == '\t' || value[0] == '\r');
}
}  // namespace

void CsvWriter::append_escaped(std::string& out, std::string_view value) {
  const bool formula = starts_like_formula(value);
  const bool needs_quotes = formula || has_byte_to_quote(value);
  if (!needs_quotes) {
    out += value;
    return;
  }
  out += '"';
  if (formula) out += '\'';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void CsvWriter::append_escaped(std::string& out, const std::vector<std::string_view>& fields,
                               std::size_t first, std::size_t last, bool plain) {
  if (first >= last) return;
  if (plain) {
    // The length check keeps views that are not the record's own (copies, a subset) on the
    // field-by-field path.
    std::size_t bytes = last - first - 1;
    bool formula = false;
    for (std::size_t i = first; i < last; ++i) {
      bytes += fields[i].size();
      formula = formula || starts_like_formula(fields[i]);
    }
    const char* begin = fields[first].data();
    const char* end = fields[last - 1].data() + fields[last - 1].size();
    if (!formula && static_cast<std::size_t>(end - begin) == bytes) {
      out.append(begin, bytes);
      return;
    }
  }
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += ';';
    append_escaped(out, fields[i]);
  }
}

void CsvWriter::field(std::string_view value) {
  if (row_started_) row_ += ';';
  row_started_ = true;
  append_escaped(row_, value);
}

void CsvWriter::end_row() {
  row_ += '\n';
  out_.write(row_.data(), static_cast<std::streamsize>(row_.size()));
  row_.clear();
  row_started_ = false;
}

void CsvWriter::write_row(const std::vector<std::string>& fields) {
  for (const auto& value : fields) field(value);
  end_row();
}

void CsvWriter::write_row(const std::vector<std::string_view>& fields) {
  for (const auto value : fields) field(value);
  end_row();
}

}  // namespace kbix
