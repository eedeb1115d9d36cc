#include "kbix/domain/extract_export.hpp"

#include <algorithm>
#include <unordered_set>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {
constexpr std::size_t kLinesKept = 1000;
}

Result<ExportReport> export_outbound(std::istream& extract, std::string_view extract_name,
                                     const Protocol& protocol, std::ostream& outbound_csv) {
  CsvReader reader(extract, std::string(extract_name));
  auto columns = read_header(reader, protocol.extract_columns);
  if (!columns) return fail(std::move(columns).error());
  const auto key =
      static_cast<std::size_t>(std::find(protocol.extract_columns.begin(),
                                         protocol.extract_columns.end(), protocol.key_column) -
                               protocol.extract_columns.begin());

  CsvWriter writer(outbound_csv);
  writer.write_row(std::vector<std::string_view>{protocol.key_column});
  ExportReport report;
  std::unordered_set<std::uint64_t> seen;
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), *columns));
    ++report.rows;
    auto insz = Insz::parse(fields[key]);
    if (!insz) {
      ++report.invalid_insz;
      if (report.invalid_lines.size() < kLinesKept)
        report.invalid_lines.push_back(reader.record_line());
      continue;
    }
    if (!seen.insert(insz->value()).second) {
      ++report.duplicate_insz;
      if (report.duplicate_lines.size() < kLinesKept) {
        report.duplicate_lines.push_back(reader.record_line());
      }
      continue;
    }
    if (insz->is_bis()) ++report.bis_insz;
    if (insz->has_calendar_warning()) ++report.calendar_warnings;
    writer.field(insz->digits());
    writer.end_row();
    ++report.exported;
  }
  outbound_csv.flush();
  return report;
}

}  // namespace kbix
