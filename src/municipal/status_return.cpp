#include "kbix/municipal/status_return.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <unordered_map>
#include <utility>

#include "internal/status_records.hpp"
#include "internal/status_workbook.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/domain/csv.hpp"

namespace kbix::municipal {
namespace {

using internal::refusal;

constexpr std::string_view kPublishedHeader = "insz;status;datum_ontvangen\n";

// A refusal of the CSV layer under this reader's codes; CsvReader's text names file, line and
// field and never the content.
Unexpected<Error> csv_refusal(Error error) {
  static const std::unordered_map<std::string_view, std::string_view> codes = {
      {"csv.unterminated_quote", "status.truncated"},
      {"csv.invalid_utf8", "status.invalid_utf8"},
      {"csv.nul_byte", "status.control_character"},
      {"csv.bare_cr", "status.control_character"},
      {"csv.too_many_records", "status.too_large"},
      {"csv.record_too_long", "status.too_large"},
      {"csv.read", "io.read"},
  };
  const auto found = codes.find(error.code);
  error.code = found == codes.end() ? "status.malformed" : std::string(found->second);
  error.message += "; the whole file is refused, nothing was imported";
  return fail(std::move(error));
}

// The CSV format: kbix/domain/csv.hpp over the bytes in place, "file:line:column: " in messages.
class CsvRecords final : public internal::RecordSource {
 public:
  CsvRecords(std::string_view bytes, std::string source, std::uint64_t max_rows)
      : source_(source), reader_(bytes, std::move(source), limits(max_rows), true) {}
  Result<bool> next(std::vector<std::string_view>& fields) override {
    auto got = reader_.next(fields);
    if (!got) return csv_refusal(std::move(got).error());
    return *got;
  }
  std::uint64_t line() const override { return reader_.record_line(); }
  std::string where(std::uint64_t line, std::size_t column) const override {
    if (line == 0) return source_ + ": ";
    return source_ + ":" + std::to_string(line) + ":" +
           (column == 0 ? std::string() : std::to_string(column) + ":") + " ";
  }
  bool fixed_width() const override { return true; }
  std::string_view empty_what() const override { return "the file"; }

 private:
  static CsvLimits limits(std::uint64_t max_rows) {
    CsvLimits limits;
    limits.max_records = max_rows + 1;  // and the header
    return limits;
  }
  std::string source_;
  CsvReader reader_;
};

bool starts_with(std::string_view bytes, std::string_view signature) {
  return bytes.substr(0, signature.size()) == signature;
}

bool is_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return false;
  }
  const int month = (text[5] - '0') * 10 + (text[6] - '0');
  const int day = (text[8] - '0') * 10 + (text[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

Unexpected<Error> too_large(std::string_view source, std::uint64_t max_bytes) {
  return refusal("status.too_large", std::string(source) + ": more than " +
                                         std::to_string(max_bytes) +
                                         " bytes (the limit for a status return)");
}

enum class Format { csv, workbook, compound_file };

Format format_of(std::string_view bytes) {
  // A ZIP archive (an .xlsx is one) starts with a local file header, or with the end of central
  // directory of an empty archive; an OLE compound file with its own signature.
  if (starts_with(bytes, "PK\x03\x04") || starts_with(bytes, "PK\x05\x06")) {
    return Format::workbook;
  }
  if (starts_with(bytes, internal::kCompoundFileSignature)) return Format::compound_file;
  return Format::csv;
}

// At most max_bytes + 1 bytes of `in`: enough to tell that it is too large.
std::string bounded_read(std::istream& in, std::uint64_t max_bytes) {
  std::string bytes;
  std::array<char, 64 * 1024> buffer{};
  while (in && bytes.size() <= max_bytes) {
    const auto want = std::min<std::uint64_t>(buffer.size(), max_bytes + 1 - bytes.size());
    in.read(buffer.data(), static_cast<std::streamsize>(want));
    bytes.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return bytes;
}

}  // namespace

Result<StatusImport> read_status_return_bytes(std::string_view bytes, std::string_view source_name,
                                              const RowReferences& references,
                                              const StatusReturnOptions& options) {
  const std::string source(source_name);
  if (bytes.size() > options.max_bytes) return too_large(source, options.max_bytes);
  switch (format_of(bytes)) {
    case Format::workbook: {
      auto sheet = internal::open_status_workbook(bytes, source, options);
      if (!sheet) return fail(std::move(sheet).error());
      return internal::apply_status_rules(**sheet, references, options);
    }
    case Format::compound_file:
      return internal::compound_file_refusal(bytes, source);
    case Format::csv:
      break;
  }
  CsvRecords records(bytes, source, options.max_rows);
  return internal::apply_status_rules(records, references, options);
}

Result<StatusImport> read_status_return(std::istream& in, std::string_view source_name,
                                        const RowReferences& references,
                                        const StatusReturnOptions& options) {
  const std::string bytes = bounded_read(in, options.max_bytes);
  if (bytes.size() > options.max_bytes) return too_large(source_name, options.max_bytes);
  if (in.bad()) {
    return fail("io.read", std::string(source_name) + ": read error; nothing was imported");
  }
  return read_status_return_bytes(bytes, source_name, references, options);
}

Result<StatusImport> read_status_return(const std::filesystem::path& file,
                                        const RowReferences& references,
                                        const StatusReturnOptions& options) {
  auto input = InputFile::open(file, "status.not_regular");
  if (!input) return fail(std::move(input).error());
  const std::string name = file.filename().string();
  if (input->size() > options.max_bytes) {
    return refusal("status.too_large", name + ": " + std::to_string(input->size()) +
                                           " bytes, more than the limit of " +
                                           std::to_string(options.max_bytes));
  }
  // Bounded again while reading: the file may grow after its size was taken.
  const std::string bytes = bounded_read(input->stream(), options.max_bytes);
  if (input->read_failed()) return fail("io.read", name + ": read error; nothing was imported");
  if (bytes.size() > options.max_bytes) return too_large(name, options.max_bytes);
  auto result = read_status_return_bytes(bytes, name, references, options);
  if (!result) return result;
  // Of exactly the bytes that were read and checked.
  result->sha256 = sha256_hex(bytes);
  return result;
}

Result<PublishReport> publish_statuses(std::span<const ReturnedStatus> statuses,
                                       std::string_view received_on,
                                       const std::filesystem::path& output) {
  if (!is_iso_date(received_on)) {
    return fail("status.bad_date", "the date a status return was received must be YYYY-MM-DD");
  }
  auto file = AtomicFile::create_new(output, 0640);
  if (!file) return fail(std::move(file).error());
  std::string content(kPublishedHeader);
  for (const auto& entry : statuses) {
    CsvWriter::append_escaped(content, entry.insz);
    content.push_back(';');
    CsvWriter::append_escaped(content, entry.status);
    content.push_back(';');
    content.append(received_on);
    content.push_back('\n');
  }
  auto written = file->write(content);
  OPENSSL_cleanse(content.data(), content.size());
  KBIX_TRY(written);
  KBIX_TRY(file->commit());
  return PublishReport{statuses.size(), output};
}

}  // namespace kbix::municipal
