#include "kbix/domain/extract_export.hpp"

#include <algorithm>
#include <map>

#include "internal/pieces.hpp"
#include "internal/u64_set.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/first_seen.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {
constexpr std::size_t kLinesKept = 1000;

enum class Verdict : std::uint8_t { invalid, repeat, first };

// One data row of a piece, as the export rules see it.
struct PieceRow {
  std::uint64_t value = 0;  // the INSZ (valid rows)
  std::uint64_t line = 0;   // within the piece, from 1
  Verdict verdict = Verdict::invalid;
  bool bis = false, calendar_warning = false;
};
// What a piece's rows add to the report (the line lists aside).
struct PieceCounts {
  std::uint64_t invalid = 0, repeats = 0, exported = 0, bis = 0, calendar_warnings = 0;
};
// A row of a later piece that this piece's row of the same value came before.
struct Replaced {
  std::uint64_t piece = 0;
  std::uint64_t value = 0;
};
struct PieceWork {
  std::uint64_t piece = 0;
  std::vector<PieceRow> rows;
  std::uint64_t lines = 0;  // line feeds in the piece
  std::size_t valid = 0;    // rows with a valid INSZ
  std::vector<std::string_view> fields;
  std::vector<Replaced> replaced;
  PieceCounts counts;
  std::string text;  // the outbound lines of its rows with verdict first
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

// The counts and the outbound lines of a piece from its rows' verdicts.
void tally(PieceWork& work) {
  work.counts = {};
  work.text.clear();
  for (const auto& row : work.rows) {
    if (row.verdict == Verdict::invalid) {
      ++work.counts.invalid;
    } else if (row.verdict == Verdict::repeat) {
      ++work.counts.repeats;
    } else {
      ++work.counts.exported;
      if (row.bis) ++work.counts.bis;
      if (row.calendar_warning) ++work.counts.calendar_warnings;
      append_digits(work.text, row.value);
      work.text += '\n';
    }
  }
}

// Data rows a file of `size` bytes seems to hold, from the line feeds in a piece after the header.
std::size_t expected_rows(int fd, const detail::HeaderAt& header, const FileReading& reading) {
  std::string bytes;
  if (!detail::read_at(fd, header.offset, reading.piece_bytes, bytes) || bytes.empty()) return 0;
  const auto lines = static_cast<double>(std::count(bytes.begin(), bytes.end(), '\n'));
  return static_cast<std::size_t>(lines * static_cast<double>(header.size - header.offset) /
                                  static_cast<double>(bytes.size()) * 1.05);
}

// The parallel export (file_pieces.hpp); false when the pieces are refused (nothing is known
// then, and `wrote` tells whether part of the outbound file was written). The duplicate check
// runs on the workers (first_seen.hpp); the ordered consume only settles the rows a later piece
// recorded before an earlier one of the same value, and keeps the line lists.
bool export_in_pieces(int fd, std::string_view name, const Protocol& protocol, std::ostream& out,
                      const FileReading& reading, ExportReport& report, bool& wrote) {
  const auto pieces =
      detail::table_pieces(fd, name, reading, protocol.extract_columns, protocol.key_column);
  if (!pieces) return false;
  const detail::HeaderAt* header = &pieces->header;
  const std::size_t key = pieces->key;
  const CsvLimits& limits = pieces->limits;
  // A piece ends at the last record end in its window (pieces.cpp), so a piece and the next span
  // at least piece_bytes: this bounds the pieces' count (the table's limit).
  if (2 * (header->size / std::max<std::size_t>(reading.piece_bytes, 1) + 2) >
      FirstSeenTable::kMaxPiece) {
    return false;
  }
  FirstSeenTable seen(expected_rows(fd, *header, reading));
  auto map = [&](std::string_view bytes, std::uint64_t piece, PieceWork& work) {
    work.piece = piece;
    work.rows.clear();
    work.replaced.clear();
    work.lines = 0;
    work.valid = 0;
    const bool read = pieces->for_each_record(bytes, work.fields, [&](const CsvReader& reader) {
      PieceRow row;
      row.line = reader.record_line();
      if (const auto insz = insz_facts(work.fields[key])) {
        row.verdict = Verdict::first;  // until seen says otherwise
        row.value = insz->value;
        row.bis = insz->bis;
        row.calendar_warning = insz->calendar_warning;
        ++work.valid;
      }
      work.rows.push_back(row);
      work.lines = reader.line() - 1;  // after the piece's last record: its lines
      return true;
    });
    if (!read) return false;
    if (work.valid > 0) {
      auto batch = seen.batch(work.valid);
      constexpr std::size_t kAhead = 16;
      const std::size_t count = work.rows.size();
      for (std::size_t i = 0; i < count; ++i) {
        if (i + kAhead < count && work.rows[i + kAhead].verdict != Verdict::invalid) {
          batch.prefetch(work.rows[i + kAhead].value);
        }
        auto& row = work.rows[i];
        if (row.verdict == Verdict::invalid) continue;
        const auto answer = batch.see(row.value, piece);
        if (!answer.first) row.verdict = Verdict::repeat;
        if (answer.replaced != FirstSeenTable::kNoPiece) {
          work.replaced.push_back({answer.replaced, row.value});
        }
      }
    }
    tally(work);
    return true;
  };
  std::uint64_t line_before = header->line - 1;  // lines before the piece
  // Values whose row in a piece (the key) came after a row of an earlier piece: repeats.
  std::map<std::uint64_t, std::vector<std::uint64_t>> repeats_of_piece;
  const std::string heading = std::string(protocol.key_column) + "\n";
  out.write(heading.data(), static_cast<std::streamsize>(heading.size()));
  wrote = true;
  auto consume = [&](PieceWork& work) {
    report.rows += work.rows.size();
    if (report.rows + 1 > limits.max_records) return false;  // the header is a record
    if (auto later = repeats_of_piece.extract(work.piece)) {
      auto& values = later.mapped();
      std::sort(values.begin(), values.end());
      for (auto& row : work.rows) {
        if (row.verdict == Verdict::first &&
            std::binary_search(values.begin(), values.end(), row.value)) {
          row.verdict = Verdict::repeat;
        }
      }
      tally(work);
    }
    for (const auto& replaced : work.replaced) {
      repeats_of_piece[replaced.piece].push_back(replaced.value);
    }
    const bool invalid_lines = report.invalid_lines.size() < kLinesKept && work.counts.invalid;
    const bool repeat_lines = report.duplicate_lines.size() < kLinesKept && work.counts.repeats;
    if (invalid_lines || repeat_lines) {
      for (const auto& row : work.rows) {
        auto& lines =
            row.verdict == Verdict::invalid ? report.invalid_lines : report.duplicate_lines;
        if (row.verdict != Verdict::first && lines.size() < kLinesKept) {
          lines.push_back(line_before + row.line);
        }
      }
    }
    report.invalid_insz += work.counts.invalid;
    report.duplicate_insz += work.counts.repeats;
    report.exported += work.counts.exported;
    report.bis_insz += work.counts.bis;
    report.calendar_warnings += work.counts.calendar_warnings;
    line_before += work.lines;
    out.write(work.text.data(), static_cast<std::streamsize>(work.text.size()));
    return true;
  };
  detail::PieceReader reader(fd, header->offset, header->size, reading);
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
