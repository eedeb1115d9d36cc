// CSV as exchanged with partners (docs/csv-format.md): RFC 4180 with ';' as separator, a header
// row, UTF-8.
//
// CsvReader streams: memory holds one record (bounded by CsvLimits), never the file. It accepts
// LF or CRLF line ends, quoted fields holding ';', '""' and line breaks, a UTF-8 byte-order mark
// at the very start, and keeps empty fields. Errors name "SOURCE:LINE:FIELD" (FIELD = 1-based
// field number) and never echo content; after an error the reader is done.
// Error codes: csv.unterminated_quote (names the line where the quote opened), csv.bare_quote,
// csv.text_after_quote, csv.bare_cr, csv.nul_byte, csv.invalid_utf8, csv.field_too_long,
// csv.too_many_columns, csv.record_too_long, csv.too_many_records, csv.read.
//
// CsvWriter writes ';' separated fields with LF line ends, quoting fields that hold ';', '"', CR
// or LF, and neutralises spreadsheet formulas: a field starting with '=', '+', '-', '@', TAB or CR
// gets a leading apostrophe (and is quoted), so no spreadsheet evaluates it. It never writes a BOM.
// Does NOT guarantee: that field counts match a header (schema.hpp and the steps check that).
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix {

struct CsvLimits {
  std::size_t max_field_bytes = 64 * 1024;
  std::size_t max_columns = 256;
  std::size_t max_record_bytes = 1024 * 1024;
  std::uint64_t max_records = 50'000'000;
};

// Where a record stands, for the messages of a part that is shown records another part parsed
// (the output scan's observer).
struct RecordPlace {
  std::string_view source;
  std::uint64_t line = 0;  // the line the record starts on
  // "SOURCE:LINE:FIELD: ", as CsvReader::where.
  std::string where(std::size_t field_number) const;
};

class CsvReader {
 public:
  // The first read is 64 KiB; once a read fills the buffer, reads are 1 MiB.
  static constexpr std::size_t kFirstReadBytes = 64 * 1024;
  static constexpr std::size_t kReadBytes = 1 << 20;
  CsvReader(std::istream& in, std::string source_name, CsvLimits limits = {});
  // Reads `bytes` in place (no copy; they must outlive the reader), as if they were the whole
  // input; for one piece of a file that begins at a record: `at_file_start` false skips the
  // byte-order-mark rule, `first_line` numbers its lines.
  CsvReader(std::string_view bytes, std::string source_name, CsvLimits limits, bool at_file_start,
            std::uint64_t first_line = 1);
  // Reads the next record into `fields`; false at the end of the input.
  Result<bool> next(std::vector<std::string>& fields);
  // The same, as views valid until the next call (no copy of the common record).
  Result<bool> next(std::vector<std::string_view>& fields);
  std::uint64_t record_line() const { return record_line_; }  // line where the record started
  std::uint64_t records() const { return records_; }
  std::uint64_t line() const { return line_; }        // the line the next record starts on
  std::size_t consumed() const { return position_; }  // bytes taken (in-place reader only)
  const std::string& source_name() const { return source_; }
  // "SOURCE:LINE:FIELD: " for messages of the caller.
  std::string where(std::size_t field_number) const { return place().where(field_number); }
  RecordPlace place() const { return {source_, record_line_}; }  // of the record just read
  // True when the record just read was the common one: no field holds ';', '"', CR or LF, and
  // next(string_view) gave views into the input, one after the other with one ';' between them.
  bool plain() const { return plain_; }

 private:
  int get();  // next byte or -1 at end
  int peek();
  Unexpected<Error> error(ErrorCode code, std::uint64_t line, std::size_t field,
                          const std::string& what);
  bool refill();
  std::optional<Result<bool>> start_record();
  Result<bool> next_slow(std::vector<std::string>& fields);
  template <class Field>
  bool next_plain(std::vector<Field>& fields);  // the fast path of next()
  bool stream_bad() const { return in_ != nullptr && in_->bad(); }

  std::istream* in_ = nullptr;  // null: reading `data_` in place
  std::string source_;
  CsvLimits limits_;
  std::vector<char> buffer_;
  const char* data_ = nullptr;  // buffer_.data() or the bytes read in place
  std::size_t position_ = 0;
  std::size_t filled_ = 0;
  bool eof_ = false;
  bool started_ = false;
  bool failed_ = false;
  bool plain_ = false;
  std::uint64_t line_ = 1;
  std::uint64_t record_line_ = 0;
  std::uint64_t records_ = 0;
  std::vector<std::string> scratch_;       // the uncommon record, for next(string_view)
  std::vector<std::uint32_t> separators_;  // of the common record
};

class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  void write_row(const std::vector<std::string>& fields);
  void write_row(const std::vector<std::string_view>& fields);
  // Appends one field to the current row (a separator first unless it is the row's first).
  void field(std::string_view value);
  void end_row();
  // The escaped form of one field, as write_row writes it.
  static void append_escaped(std::string& out, std::string_view value);
  // fields[first, last) escaped, with ';' between them. `plain` is CsvReader::plain() of the
  // record they were read from: then, unless one starts like a formula, they need no escaping and
  // are appended as the one run of bytes they are in the input.
  static void append_escaped(std::string& out, const std::vector<std::string_view>& fields,
                             std::size_t first, std::size_t last, bool plain);

 private:
  std::ostream& out_;
  std::string row_;
  bool row_started_ = false;
};

// True when `text` is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace kbix
