#include "kbix/reports/disclosure.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "internal/classes.hpp"
#include "internal/report_text.hpp"
#include "internal/tuple_counter.hpp"
#include "kbix/core/buffered_file.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/domain/csv.hpp"

namespace kbix {

namespace fs = std::filesystem;
using detail::ClassStats;
using detail::Grouping;
using detail::TupleSet;

namespace {

std::uint32_t all_columns(std::size_t width) {
  return width >= 32 ? 0xFFFFFFFFu : (1u << width) - 1;
}

// The classes as weighted tuples of per-column ids (id 0 = empty), in the order first seen.
struct ClassTable {
  std::size_t width = 0;
  std::vector<std::uint32_t> ids;       // classes x width
  std::vector<std::uint32_t> distinct;  // ids in use per column, the empty id included
  std::vector<std::uint64_t> rows;      // per class
  TupleSet tuples() const { return {ids.data(), rows.size(), width, &distinct, &rows}; }
};

ClassTable intern(const detail::TupleCounter& counter, std::size_t width) {
  ClassTable table;
  table.width = width;
  table.distinct.assign(width, 1);
  std::vector<std::unordered_map<std::string_view, std::uint32_t>> dictionaries(width);
  for (std::uint32_t cls = 0; cls < counter.classes(); ++cls) {
    const auto cells = counter.cells(cls);
    for (std::size_t c = 0; c < width; ++c) {
      if (cells[c].empty()) {
        table.ids.push_back(0);
        continue;
      }
      const auto [at, added] = dictionaries[c].try_emplace(cells[c], table.distinct[c]);
      if (added) ++table.distinct[c];
      table.ids.push_back(at->second);
    }
    table.rows.push_back(counter.rows(cls));
  }
  return table;
}

// Leave-one-out over the classes: each class is one weighted tuple.
std::vector<ColumnContribution> contributions(const ClassTable& table,
                                              const std::vector<std::string>& qis,
                                              std::uint64_t k) {
  const std::size_t width = table.width;
  std::vector<ColumnContribution> result;
  for (std::size_t c = 0; c < width; ++c) {
    const ClassStats without =
        detail::class_stats(detail::group(table.tuples(), all_columns(width) & ~(1u << c)), k);
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

// Local suppression, decided per class (every row of a class is treated alike, so this is the
// row-by-row rule at the cost of the classes); returns the cells emptied per class (bit c =
// quasi-identifier c).
std::vector<std::uint32_t> suppress(ClassTable& table, DisclosureReport& report) {
  const auto k = static_cast<std::uint64_t>(report.k);
  const std::size_t width = table.width;
  std::vector<std::uint32_t> emptied(table.rows.size(), 0);
  std::vector<std::uint64_t> per_column(width, 0);
  for (const auto& contribution : report.contributions) {
    const auto c =
        static_cast<std::size_t>(std::find(report.quasi_identifiers.begin(),
                                           report.quasi_identifiers.end(), contribution.column) -
                                 report.quasi_identifiers.begin());
    const Grouping g = detail::group(table.tuples(), all_columns(width));
    bool any = false;
    for (std::size_t cls = 0; cls < table.rows.size(); ++cls) {
      const auto now = g.class_of[cls];
      if (now == g.all_empty || g.size[now] >= k) continue;
      any = true;
      auto& id = table.ids[cls * width + c];
      if (id == 0) continue;
      id = 0;
      emptied[cls] |= 1u << c;
      per_column[c] += table.rows[cls];
    }
    if (!any) break;
  }
  const ClassStats after =
      detail::class_stats(detail::group(table.tuples(), all_columns(width)), k);
  report.smallest_class_after = after.smallest;
  report.rows_in_small_classes_after = after.rows_in_small;
  for (std::size_t c = 0; c < width; ++c) {
    report.suppressed_cells += per_column[c];
    report.suppressed_cells_per_column.emplace_back(report.quasi_identifiers[c], per_column[c]);
  }
  for (std::size_t cls = 0; cls < emptied.size(); ++cls) {
    if (emptied[cls] != 0) report.suppressed_rows += table.rows[cls];
  }
  return emptied;
}

Unexpected<Error> changed_since_counted(const CsvReader& reader) {
  return fail("disclosure.output_changed",
              reader.where(1) + "the output changed after its classes were counted");
}

// Rewrites the output with the emptied cells; every other byte is written as the reader saw it
// through CsvWriter's escaping (which is idempotent on kbix's own output). Each row's class is
// looked up again, so no per-row state is kept between the two passes.
Status rewrite(const fs::path& file, detail::TupleCounter& counter,
               const std::vector<std::size_t>& positions, const std::vector<std::uint32_t>& emptied,
               std::uint64_t rows) {
  BufferedInput in(file);
  if (!in.good()) return fail("io.read", "cannot read " + file.string());
  CsvReader reader(in.stream(), file.filename().string());
  auto out = AtomicFile::create(file, 0600);
  if (!out) return fail(std::move(out).error());
  {
    BufferedOutput temporary(out->temp_path());
    if (!temporary.good()) return fail("io.write", "cannot write " + out->temp_path().string());
    CsvWriter writer(temporary.stream());
    std::vector<std::string> fields;
    std::uint64_t row = 0;
    for (bool header = true;; header = false) {
      auto more = reader.next(fields);
      if (!more) return fail(std::move(more).error());
      if (!*more) break;
      if (!header) {
        const std::uint32_t cls = counter.find(fields);
        if (cls == detail::kNoClass || ++row > rows) return changed_since_counted(reader);
        for (std::size_t c = 0; emptied[cls] != 0 && c < positions.size(); ++c) {
          if (emptied[cls] & (1u << c)) fields[positions[c]].clear();
        }
      }
      writer.write_row(fields);
    }
    if (row != rows) return changed_since_counted(reader);
    KBIX_TRY(temporary.close());
  }
  return out->commit();
}

}  // namespace

struct DisclosureCounter::State {
  std::vector<std::size_t> positions;
  std::size_t field_count = 0;
  std::uint64_t rows = 0;
  bool header_seen = false;
  std::optional<detail::TupleCounter> tuples;
};

DisclosureCounter::DisclosureCounter(const Protocol& protocol)
    : protocol_id_(protocol.id), policy_(protocol.disclosure), state_(std::make_unique<State>()) {}
DisclosureCounter::~DisclosureCounter() = default;

void DisclosureCounter::clear() {
  state_ = std::make_unique<State>();
}

Status DisclosureCounter::record(const std::vector<std::string_view>& fields,
                                 const RecordPlace& place) {
  State& s = *state_;
  if (policy_.quasi_identifiers.empty()) return ok();
  if (!s.header_seen) {
    s.header_seen = true;
    s.field_count = fields.size();
    for (const auto& qi : policy_.quasi_identifiers) {
      const auto at = std::find(fields.begin(), fields.end(), qi);
      if (at == fields.end()) {
        return fail("disclosure.missing_column",
                    std::string(place.source) + ":1: no column '" + qi + "' (a quasi-identifier)");
      }
      s.positions.push_back(static_cast<std::size_t>(at - fields.begin()));
    }
    s.tuples.emplace(s.positions);
    return ok();
  }
  if (fields.size() != s.field_count) {
    return fail("schema.field_count", place.where(fields.size()) + "expected " +
                                          std::to_string(s.field_count) + " fields, got " +
                                          std::to_string(fields.size()));
  }
  ++s.rows;
  s.tuples->add(fields);
  return ok();
}

Result<DisclosureReport> DisclosureCounter::finish(const fs::path& output_csv, bool act) {
  State& s = *state_;
  if (policy_.quasi_identifiers.empty()) {
    return fail("disclosure.no_quasi_identifiers",
                "the protocol " + protocol_id_ + " names no quasi-identifiers ([disclosure])");
  }
  if (!s.header_seen) {
    return fail("disclosure.missing_column", output_csv.filename().string() + " is empty");
  }
  DisclosureReport report;
  report.protocol_id = protocol_id_;
  report.quasi_identifiers = policy_.quasi_identifiers;
  report.k = policy_.k;
  report.action = policy_.action;
  report.rows = s.rows;
  const auto k = static_cast<std::uint64_t>(policy_.k);
  s.tuples->flush();
  ClassTable table = intern(*s.tuples, s.positions.size());
  fill(report, detail::class_stats(detail::group(table.tuples(), all_columns(table.width)), k));
  report.contributions = contributions(table, policy_.quasi_identifiers, k);
  report.smallest_class_after = report.smallest_class;
  report.rows_in_small_classes_after = report.rows_in_small_classes;
  if (!act || report.rows_in_small_classes == 0) return report;
  if (policy_.action == DisclosureAction::block) {
    report.blocked = true;
  } else if (report.rewrote_output()) {
    const auto emptied = suppress(table, report);
    KBIX_TRY(rewrite(output_csv, *s.tuples, s.positions, emptied, s.rows));
  }
  return report;
}

namespace {

// Counts the classes of a file in a pass of its own (the report without the output scan).
Result<DisclosureReport> count_and_finish(const fs::path& file, const Protocol& protocol,
                                          bool act) {
  DisclosureCounter counter(protocol);
  if (!protocol.disclosure.quasi_identifiers.empty()) {
    BufferedInput in(file);
    if (!in.good()) return fail("io.read", "cannot read " + file.string());
    CsvReader reader(in.stream(), file.filename().string());
    std::vector<std::string_view> fields;
    for (;;) {
      auto more = reader.next(fields);
      if (!more) return fail(std::move(more).error());
      if (!*more) break;
      KBIX_TRY(counter.record(fields, reader.place()));
    }
  }
  return counter.finish(file, act);
}

}  // namespace

Result<DisclosureReport> assess_disclosure(const fs::path& output_csv, const Protocol& protocol) {
  return count_and_finish(output_csv, protocol, false);
}

Result<DisclosureReport> apply_disclosure(const fs::path& output_csv, const Protocol& protocol) {
  return count_and_finish(output_csv, protocol, true);
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
