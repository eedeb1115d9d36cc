#include "kbix/domain/extract_export.hpp"

#include <algorithm>

#include "internal/u64_set.hpp"
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
  for (;;) {
    KBIX_ASSIGN_OR_RETURN(auto more, reader.next(fields));
    if (!more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), columns));
    ++report.rows;
    auto insz = Insz::parse(fields[key]);
    if (!insz) {
      ++report.invalid_insz;
      if (report.invalid_lines.size() < kLinesKept)
        report.invalid_lines.push_back(reader.record_line());
      continue;
    }
    if (!seen.insert(insz->value())) {
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
