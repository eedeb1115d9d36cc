#include "kbix/domain/extract_export.hpp"

#include <algorithm>

#include "internal/pieces.hpp"
#include "internal/u64_set.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {
constexpr std::size_t kLinesKept = 1000;

// One data row of a piece, as the export rules see it.
struct PieceRow {
  std::uint64_t value = 0;  // the INSZ (valid rows)
  std::uint64_t line = 0;   // within the piece, from 1
  bool valid = false, bis = false, calendar_warning = false;
};
struct PieceWork {
  std::vector<PieceRow> rows;
  std::uint64_t lines = 0;  // line feeds in the piece
  std::size_t bytes = 0;
  std::vector<std::string_view> fields;
};

// The eleven digits of an INSZ value (Insz::digits(): leading zeros kept).
void append_digits(std::string& out, std::uint64_t value) {
  char digits[11];
  for (int i = 10; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits, 11);
}

// The parallel export (file_pieces.hpp); false when the pieces are refused (nothing is known
// then, and `wrote` tells whether part of the outbound file was written).
bool export_in_pieces(int fd, std::string_view name, const Protocol& protocol, std::ostream& out,
                      const FileReading& reading, ExportReport& report, bool& wrote) {
  const auto pieces =
      detail::table_pieces(fd, name, reading, protocol.extract_columns, protocol.key_column);
  if (!pieces) return false;
  const detail::HeaderAt* header = &pieces->header;
  const std::uint64_t size = header->size;
  const std::size_t key = pieces->key;
  const CsvLimits& limits = pieces->limits;
  auto map = [&](std::string_view bytes, std::uint64_t, PieceWork& work) {
    work.rows.clear();
    work.lines = 0;
    work.bytes = bytes.size();
    return pieces->for_each_record(bytes, work.fields, [&](const CsvReader& reader) {
      PieceRow row;
      row.line = reader.record_line();
      if (auto insz = Insz::parse(work.fields[key])) {
        row.valid = true;
        row.value = insz->value();
        row.bis = insz->is_bis();
        row.calendar_warning = insz->has_calendar_warning();
      }
      work.rows.push_back(row);
      work.lines = reader.line() - 1;  // after the piece's last record: its lines
      return true;
    });
  };
  std::uint64_t line_before = header->line - 1;  // lines before the piece
  detail::U64Set seen;
  std::string text = std::string(protocol.key_column) + "\n";
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  wrote = true;
  auto consume = [&](PieceWork& work) {
    text.clear();
    if (report.rows == 0 && !work.rows.empty()) {  // people expected, from the first piece
      seen.reserve(static_cast<std::size_t>(static_cast<double>(work.rows.size()) *
                                            static_cast<double>(size - header->offset) /
                                            static_cast<double>(work.bytes) * 1.05));
    }
    constexpr std::size_t kAhead = 16;
    for (std::size_t i = 0; i < work.rows.size(); ++i) {
      if (i + kAhead < work.rows.size()) seen.prefetch(work.rows[i + kAhead].value);
      const auto& row = work.rows[i];
      if (++report.rows + 1 > limits.max_records) return false;  // the header is a record
      if (!row.valid) {
        ++report.invalid_insz;
        if (report.invalid_lines.size() < kLinesKept)
          report.invalid_lines.push_back(line_before + row.line);
        continue;
      }
      if (!seen.insert(row.value)) {
        ++report.duplicate_insz;
        if (report.duplicate_lines.size() < kLinesKept) {
          report.duplicate_lines.push_back(line_before + row.line);
        }
        continue;
      }
      if (row.bis) ++report.bis_insz;
      if (row.calendar_warning) ++report.calendar_warnings;
      append_digits(text, row.value);
      text += '\n';
      ++report.exported;
    }
    line_before += work.lines;
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    return true;
  };
  detail::PieceReader reader(fd, header->offset, size, reading);
  return detail::for_each_piece<PieceWork>(reader, reading, map, consume);
}
}  // namespace

Result<ExportReport> export_outbound(std::istream& extract, std::string_view extract_name,
                                     const Protocol& protocol, std::ostream& outbound_csv) {
  CsvReader reader(extract, std::string(extract_name));
  KBIX_ASSIGN_OR_RETURN(auto columns, read_header(reader, protocol.extract_columns));
  const auto key =
      static_cast<std::size_t>(std::find(protocol.extract_columns.begin(),
                                         protocol.extract_columns.end(), protocol.key_column) -
                               protocol.extract_columns.begin());

  CsvWriter writer(outbound_csv);
  writer.write_row(std::vector<std::string_view>{protocol.key_column});
  ExportReport report;
  detail::U64Set seen;
  std::vector<std::string> fields;
  KBIX_TRY(for_each_record(reader, columns, fields, [&]() -> Status {
    ++report.rows;
    auto insz = Insz::parse(fields[key]);
    if (!insz) {
      ++report.invalid_insz;
      if (report.invalid_lines.size() < kLinesKept)
        report.invalid_lines.push_back(reader.record_line());
      return ok();
    }
    if (!seen.insert(insz->value())) {
      ++report.duplicate_insz;
      if (report.duplicate_lines.size() < kLinesKept) {
        report.duplicate_lines.push_back(reader.record_line());
      }
      return ok();
    }
    if (insz->is_bis()) ++report.bis_insz;
    if (insz->has_calendar_warning()) ++report.calendar_warnings;
    writer.field(insz->digits());
    writer.end_row();
    ++report.exported;
    return ok();
  }));
  outbound_csv.flush();
  return report;
}

Result<ExportReport> export_outbound(int fd, std::istream& sequential,
                                     std::string_view extract_name, const Protocol& protocol,
                                     std::ostream& outbound_csv, const FileReading& reading) {
  ExportReport report;
  bool wrote = false;
  if (export_in_pieces(fd, extract_name, protocol, outbound_csv, reading, report, wrote)) {
    outbound_csv.flush();
    return report;
  }
  if (!wrote) return export_outbound(sequential, extract_name, protocol, outbound_csv);
  detail::DiscardStream discard;  // only for the exact error: the outbound file is refused
  auto again = export_outbound(sequential, extract_name, protocol, discard);
  if (!again) return again;
  return fail("export.read", std::string(extract_name) +
                                 ": the file could not be read in pieces (changed while read?)");
}

}  // namespace kbix
