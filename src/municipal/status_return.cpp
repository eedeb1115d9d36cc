#include "kbix/municipal/status_return.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <streambuf>
#include <unordered_map>
#include <utility>

#include "kbix/core/file_safety.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/domain/csv.hpp"

namespace kbix::municipal {
namespace {

constexpr std::string_view kPublishedHeader = "insz;status;datum_ontvangen\n";

// Hands out at most `limit` bytes of `source`; exceeded() tells whether the source had more.
class LimitedInput final : public std::streambuf {
 public:
  LimitedInput(std::streambuf* source, std::uint64_t limit) : source_(source), left_(limit) {}
  bool exceeded() const { return exceeded_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (left_ == 0) {
      exceeded_ = exceeded_ || !traits_type::eq_int_type(source_->sgetc(), traits_type::eof());
      return traits_type::eof();
    }
    const auto want = static_cast<std::streamsize>(
        std::min<std::uint64_t>(left_, static_cast<std::uint64_t>(buffer_.size())));
    const std::streamsize got = source_->sgetn(buffer_.data(), want);
    if (got <= 0) return traits_type::eof();
    left_ -= static_cast<std::uint64_t>(got);
    setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::streambuf* source_;
  std::uint64_t left_;
  bool exceeded_ = false;
  std::array<char, 64 * 1024> buffer_{};
};

std::string at(std::string_view source, std::uint64_t line, std::size_t column) {
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// The first field (1-based) holding a C0 control character other than TAB, LF, CR, or DEL.
std::size_t field_with_control(const std::vector<std::string_view>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    for (const char c : fields[i]) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7F) return i + 1;
    }
  }
  return 0;
}

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

Unexpected<Error> refusal(ErrorCode code, std::string message) {
  return fail(code, std::move(message) + "; the whole file is refused, nothing was imported");
}

struct Columns {
  std::size_t count = 0;
  std::size_t reference = 0;  // 0-based
  std::size_t status = 0;
};

Result<Columns> find_columns(const std::vector<std::string_view>& header, std::string_view source,
                             std::uint64_t line, const StatusReturnOptions& options) {
  Columns columns;
  columns.count = header.size();
  std::size_t reference_hits = 0;
  std::size_t status_hits = 0;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = trim(header[i]);
    if (same_ignoring_case(name, options.reference_column)) {
      if (++reference_hits == 2) {
        return refusal("status.duplicate_column", at(source, line, i + 1) + "the column \"" +
                                                      options.reference_column +
                                                      "\" appears twice");
      }
      columns.reference = i;
    } else if (same_ignoring_case(name, options.status_column)) {
      if (++status_hits == 2) {
        return refusal("status.duplicate_column", at(source, line, i + 1) + "the column \"" +
                                                      options.status_column + "\" appears twice");
      }
      columns.status = i;
    }
  }
  if (reference_hits == 0 || status_hits == 0) {
    const std::string& missing =
        reference_hits == 0 ? options.reference_column : options.status_column;
    return refusal("status.missing_column", std::string(source) + ":" + std::to_string(line) +
                                                ": the header has no column \"" + missing + "\"");
  }
  return columns;
}

// The list's own spelling of `value`, or nullptr when it is not in the closed list.
const std::string* closed_list_entry(const std::vector<std::string>& allowed,
                                     std::string_view value) {
  for (const auto& entry : allowed) {
    if (same_ignoring_case(entry, value)) return &entry;
  }
  return nullptr;
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

}  // namespace

Result<StatusImport> read_status_return(std::istream& in, std::string_view source_name,
                                        const RowReferences& references,
                                        const StatusReturnOptions& options) {
  std::vector<std::string> allowed = options.allowed_statuses;
  if (allowed.empty()) {
    for (const auto status : kDefaultActivityStatuses) allowed.emplace_back(status);
  }
  LimitedInput limited(in.rdbuf(), options.max_bytes);
  std::istream bounded(&limited);
  CsvLimits limits;
  limits.max_records = options.max_rows + 1;  // and the header
  const std::string source(source_name);
  CsvReader reader(bounded, source, limits);
  auto too_large = [&] {
    return refusal("status.too_large", source + ": more than " + std::to_string(options.max_bytes) +
                                           " bytes (the limit for a status return)");
  };

  std::vector<std::string_view> fields;
  auto got = reader.next(fields);
  if (limited.exceeded()) return too_large();
  if (!got) return csv_refusal(std::move(got).error());
  if (!*got) return refusal("status.empty", source + ": the file is empty (no header)");
  if (const std::size_t bad = field_with_control(fields); bad != 0) {
    return refusal("status.control_character",
                   at(source, reader.record_line(), bad) + "a control character in the header");
  }
  auto columns = find_columns(fields, source, reader.record_line(), options);
  if (!columns) return fail(std::move(columns).error());

  StatusImport result;
  std::unordered_map<std::string, std::uint64_t> seen;  // reference -> line
  std::string reference;
  for (;;) {
    got = reader.next(fields);
    if (limited.exceeded()) return too_large();
    if (!got) return csv_refusal(std::move(got).error());
    if (!*got) break;
    const std::uint64_t line = reader.record_line();
    ++result.data_rows;
    if (result.data_rows > options.max_rows) {
      return refusal("status.too_large", at(source, line, 1) + "more than " +
                                             std::to_string(options.max_rows) + " rows");
    }
    if (fields.size() != columns->count) {
      return refusal("status.column_count",
                     at(source, line, std::min(fields.size(), columns->count) + 1) +
                         std::to_string(fields.size()) + " fields where the header has " +
                         std::to_string(columns->count));
    }
    if (const std::size_t bad = field_with_control(fields); bad != 0) {
      return refusal("status.control_character", at(source, line, bad) + "a control character");
    }
    const std::string_view typed = trim(fields[columns->reference]);
    const std::string_view status = trim(fields[columns->status]);
    const std::size_t reference_column = columns->reference + 1;
    const std::size_t status_column = columns->status + 1;
    if (typed.empty()) {
      if (!status.empty()) {
        return refusal("status.missing_reference",
                       at(source, line, reference_column) + "a status without a row reference");
      }
      ++result.blank_rows;
      continue;
    }
    reference.assign(typed.begin(), typed.end());
    std::transform(reference.begin(), reference.end(), reference.begin(), upper);
    const auto insz =
        RowReferences::is_reference(reference) ? references.insz_of(reference) : std::nullopt;
    if (!insz) {
      return refusal("status.unknown_reference",
                     at(source, line, reference_column) +
                         "not a row reference that kbix issued in this exchange");
    }
    if (const auto [earlier, fresh] = seen.emplace(reference, line); !fresh) {
      return refusal("status.duplicate_reference", at(source, line, reference_column) +
                                                       "the same row reference as line " +
                                                       std::to_string(earlier->second));
    }
    if (status.empty()) {
      ++result.without_status;
      continue;
    }
    const std::string* canonical = closed_list_entry(allowed, status);
    if (canonical == nullptr) {
      return refusal("status.unknown_status",
                     at(source, line, status_column) + "a status outside the closed list");
    }
    result.statuses.push_back(ReturnedStatus{*insz, reference, *canonical, line});
  }
  return result;
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
  auto result = read_status_return(input->stream(), name, references, options);
  if (input->read_failed()) return fail("io.read", name + ": read error; nothing was imported");
  if (!result) return result;
  auto digest = input->sha256_hex();
  if (!digest) return fail(std::move(digest).error());
  result->sha256 = std::move(*digest);
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
