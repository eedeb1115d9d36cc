#include "kbix/reports/disclosure.hpp"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <unordered_map>

#include "internal/classes.hpp"
#include "internal/report_text.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/domain/csv.hpp"

namespace kbix {

namespace fs = std::filesystem;
using detail::ClassStats;
using detail::Grouping;
using detail::TupleSet;

namespace {

// The output's quasi-identifier cells, interned per column (id 0 = empty).
struct QiTable {
  std::vector<std::size_t> positions;  // field index of each quasi-identifier
  std::size_t field_count = 0;
  std::vector<std::uint32_t> ids;       // rows x width
  std::vector<std::uint32_t> distinct;  // ids in use per column, the empty id included
  std::size_t width() const { return positions.size(); }
  std::size_t rows() const { return positions.empty() ? 0 : ids.size() / positions.size(); }
  TupleSet tuples() const { return {ids.data(), rows(), width(), &distinct, nullptr}; }
};

std::uint32_t all_columns(std::size_t width) {
  return width >= 32 ? 0xFFFFFFFFu : (1u << width) - 1;
}

Result<QiTable> read_table(const fs::path& file, const std::vector<std::string>& qis) {
  std::vector<char> buffer(1 << 20);
  std::ifstream in;
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(file, std::ios::binary);
  if (!in) return fail("io.read", "cannot read " + file.string());
  CsvReader reader(in, file.filename().string());
  std::vector<std::string> fields;
  KBIX_ASSIGN_OR_RETURN(auto header, reader.next(fields));
  if (!header) return fail("disclosure.missing_column", file.filename().string() + " is empty");
  QiTable table;
  table.field_count = fields.size();
  for (const auto& qi : qis) {
    const auto at = std::find(fields.begin(), fields.end(), qi);
    if (at == fields.end()) {
      return fail("disclosure.missing_column",
                  file.filename().string() + ":1: no column '" + qi + "' (a quasi-identifier)");
    }
    table.positions.push_back(static_cast<std::size_t>(at - fields.begin()));
  }
  std::vector<std::unordered_map<std::string, std::uint32_t>> dictionaries(qis.size());
  table.distinct.assign(qis.size(), 1);
  for (;;) {
    KBIX_ASSIGN_OR_RETURN(auto more, reader.next(fields));
    if (!more) break;
    if (fields.size() != table.field_count) {
      return fail("schema.field_count", reader.where(fields.size()) + "expected " +
                                            std::to_string(table.field_count) + " fields, got " +
                                            std::to_string(fields.size()));
    }
    for (std::size_t c = 0; c < table.positions.size(); ++c) {
      const std::string& value = fields[table.positions[c]];
      if (value.empty()) {
        table.ids.push_back(0);
        continue;
      }
      const auto [at, added] = dictionaries[c].try_emplace(value, table.distinct[c]);
      if (added) ++table.distinct[c];
      table.ids.push_back(at->second);
    }
  }
  return table;
}

// Leave-one-out over the classes (not the rows): each class is one weighted tuple.
std::vector<ColumnContribution> contributions(const QiTable& table, const Grouping& full,
                                              const std::vector<std::string>& qis,
                                              std::uint64_t k) {
  const std::size_t width = table.width();
  std::vector<std::uint32_t> representatives;
  representatives.reserve(full.size.size() * width);
  for (const auto first : full.first_item) {
    const auto* tuple = table.ids.data() + std::size_t{first} * width;
    representatives.insert(representatives.end(), tuple, tuple + width);
  }
  const TupleSet classes{representatives.data(), full.size.size(), width, &table.distinct,
                         &full.size};
  std::vector<ColumnContribution> result;
  for (std::size_t c = 0; c < width; ++c) {
    const ClassStats without =
        detail::class_stats(detail::group(classes, all_columns(width) & ~(1u << c)), k);
    result.push_back({qis[c], without.smallest, without.rows_in_small});
  }
  std::stable_sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    if (a.smallest_class_without != b.smallest_class_without) {
      return a.smallest_class_without > b.smallest_class_without;
    }
    return a.rows_in_small_classes_without < b.rows_in_small_classes_without;
  });
  return result;
}

void fill(DisclosureReport& report, const ClassStats& stats) {
  report.classes = stats.classes;
  report.smallest_class = stats.smallest;
  report.classes_below_k = stats.below_k;
  report.rows_in_small_classes = stats.rows_in_small;
  report.unique_rows = stats.unique_rows;
  report.rows_all_empty = stats.rows_all_empty;
}

Result<DisclosureReport> assess(const fs::path& file, const Protocol& protocol, QiTable& table) {
  const auto& policy = protocol.disclosure;
  if (policy.quasi_identifiers.empty()) {
    return fail("disclosure.no_quasi_identifiers",
                "the protocol " + protocol.id + " names no quasi-identifiers ([disclosure])");
  }
  KBIX_ASSIGN_OR_RETURN(auto read, read_table(file, policy.quasi_identifiers));
  table = std::move(read);
  DisclosureReport report;
  report.protocol_id = protocol.id;
  report.quasi_identifiers = policy.quasi_identifiers;
  report.k = policy.k;
  report.action = policy.action;
  report.rows = table.rows();
  const auto k = static_cast<std::uint64_t>(policy.k);
  const Grouping full = detail::group(table.tuples(), all_columns(table.width()));
  fill(report, detail::class_stats(full, k));
  report.contributions = contributions(table, full, policy.quasi_identifiers, k);
  report.smallest_class_after = report.smallest_class;
  report.rows_in_small_classes_after = report.rows_in_small_classes;
  return report;
}

// Local suppression; returns the cells emptied per row (bit c = quasi-identifier c).
std::vector<std::uint16_t> suppress(QiTable& table, DisclosureReport& report) {
  const auto k = static_cast<std::uint64_t>(report.k);
  std::vector<std::uint16_t> emptied(table.rows(), 0);
  std::vector<std::uint64_t> per_column(table.width(), 0);
  for (const auto& contribution : report.contributions) {
    const auto c =
        static_cast<std::size_t>(std::find(report.quasi_identifiers.begin(),
                                           report.quasi_identifiers.end(), contribution.column) -
                                 report.quasi_identifiers.begin());
    const Grouping g = detail::group(table.tuples(), all_columns(table.width()));
    bool any = false;
    for (std::size_t row = 0; row < table.rows(); ++row) {
      const auto cls = g.class_of[row];
      if (cls == g.all_empty || g.size[cls] >= k) continue;
      any = true;
      auto& id = table.ids[row * table.width() + c];
      if (id == 0) continue;
      id = 0;
      emptied[row] |= static_cast<std::uint16_t>(1u << c);
      ++per_column[c];
    }
    if (!any) break;
  }
  const ClassStats after =
      detail::class_stats(detail::group(table.tuples(), all_columns(table.width())), k);
  report.smallest_class_after = after.smallest;
  report.rows_in_small_classes_after = after.rows_in_small;
  for (std::size_t c = 0; c < table.width(); ++c) {
    report.suppressed_cells += per_column[c];
    report.suppressed_cells_per_column.emplace_back(report.quasi_identifiers[c], per_column[c]);
  }
  report.suppressed_rows = static_cast<std::uint64_t>(
      std::count_if(emptied.begin(), emptied.end(), [](std::uint16_t m) { return m != 0; }));
  return emptied;
}

// Rewrites the output with the emptied cells; every other byte is written as the reader saw it
// through CsvWriter's escaping (which is idempotent on kbix's own output).
Status rewrite(const fs::path& file, const QiTable& table,
               const std::vector<std::uint16_t>& emptied) {
  std::vector<char> buffer(1 << 20);
  std::ifstream in;
  in.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  in.open(file, std::ios::binary);
  if (!in) return fail("io.read", "cannot read " + file.string());
  CsvReader reader(in, file.filename().string());
  KBIX_ASSIGN_OR_RETURN(auto out, AtomicFile::create(file, 0600));
  std::string chunk;
  std::vector<std::string> fields;
  std::size_t row = 0;
  for (bool header = true;; header = false) {
    KBIX_ASSIGN_OR_RETURN(auto more, reader.next(fields));
    if (!more) break;
    if (!header) {
      const std::uint16_t mask = emptied[row++];
      for (std::size_t c = 0; mask != 0 && c < table.width(); ++c) {
        if (mask & (1u << c)) fields[table.positions[c]].clear();
      }
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) chunk += ';';
      CsvWriter::append_escaped(chunk, fields[i]);
    }
    chunk += '\n';
    if (chunk.size() >= (1 << 20)) {
      KBIX_TRY(out.write(chunk));
      chunk.clear();
    }
  }
  KBIX_TRY(out.write(chunk));
  return out.commit();
}

}  // namespace

Result<DisclosureReport> assess_disclosure(const fs::path& output_csv, const Protocol& protocol) {
  QiTable table;
  return assess(output_csv, protocol, table);
}

Result<DisclosureReport> apply_disclosure(const fs::path& output_csv, const Protocol& protocol) {
  QiTable table;
  auto report = assess(output_csv, protocol, table);
  if (!report) return report;
  if (report->rows_in_small_classes == 0) return report;
  if (protocol.disclosure.action == DisclosureAction::block) {
    report->blocked = true;
  } else if (protocol.disclosure.action == DisclosureAction::suppress) {
    const auto emptied = suppress(table, *report);
    KBIX_TRY(rewrite(output_csv, table, emptied));
  }
  return report;
}

nlohmann::ordered_json disclosure_json(const DisclosureReport& r) {
  nlohmann::ordered_json contributions = nlohmann::ordered_json::array();
  for (const auto& c : r.contributions) {
    contributions.push_back({{"column", c.column},
                             {"smallest_class_without", c.smallest_class_without},
                             {"rows_in_small_classes_without", c.rows_in_small_classes_without}});
  }
  nlohmann::ordered_json per_column = nlohmann::ordered_json::object();
  for (const auto& [column, cells] : r.suppressed_cells_per_column) per_column[column] = cells;
  return {{"report", "disclosure"},
          {"version", 1},
          {"run_id", r.run_id},
          {"protocol_id", r.protocol_id},
          {"quasi_identifiers", r.quasi_identifiers},
          {"k", r.k},
          {"action", to_string(r.action)},
          {"rows", r.rows},
          {"classes", r.classes},
          {"smallest_class", r.smallest_class},
          {"classes_below_k", r.classes_below_k},
          {"rows_in_small_classes", r.rows_in_small_classes},
          {"unique_rows", r.unique_rows},
          {"rows_all_empty", r.rows_all_empty},
          {"contributions", contributions},
          {"suppression",
           {{"rows", r.suppressed_rows},
            {"cells", r.suppressed_cells},
            {"cells_per_column", per_column},
            {"smallest_class_after", r.smallest_class_after},
            {"rows_in_small_classes_after", r.rows_in_small_classes_after}}},
          {"blocked", r.blocked}};
}

std::string disclosure_text(const DisclosureReport& r) {
  std::string qis;
  for (const auto& q : r.quasi_identifiers) qis += (qis.empty() ? "" : ", ") + q;
  std::string out = "Disclosure risk, run " + r.run_id + " (protocol " + r.protocol_id + ")\n";
  out += "Quasi-identifiers: " + qis + "; k = " + std::to_string(r.k) +
         "; action: " + to_string(r.action) + "\n";
  out += std::to_string(r.rows) + " rows in " + std::to_string(r.classes) +
         " classes; smallest class " + std::to_string(r.smallest_class) + "; " +
         std::to_string(r.classes_below_k) + " classes (" +
         std::to_string(r.rows_in_small_classes) + " rows) smaller than k; " +
         std::to_string(r.unique_rows) + " rows unique; " + std::to_string(r.rows_all_empty) +
         " rows with every quasi-identifier empty\n\n";
  detail::TextTable table({"without column", "smallest class", "rows in classes < k"});
  for (const auto& c : r.contributions) {
    table.add({c.column, std::to_string(c.smallest_class_without),
               std::to_string(c.rows_in_small_classes_without)});
  }
  out += "Contribution (first: removing it raises the smallest class most):\n" + table.render();
  if (r.action == DisclosureAction::suppress) {
    out += "\nSuppressed: " + std::to_string(r.suppressed_cells) + " cells in " +
           std::to_string(r.suppressed_rows) + " rows; afterwards smallest class " +
           std::to_string(r.smallest_class_after) + ", " +
           std::to_string(r.rows_in_small_classes_after) + " rows in classes smaller than k\n";
  }
  if (r.blocked) out += "\nBLOCKED: classes smaller than k; the output is not published\n";
  return out;
}

}  // namespace kbix
