#include "kbix/domain/merge.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>
#include <vector>

#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {

std::size_t key_index(const std::vector<std::string>& columns, const std::string& key) {
  return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), key) - columns.begin());
}

// The snapshot's people: escaped output cells in an arena of fixed-size blocks (no doubling
// reallocation of one huge string), and a vector sorted by INSZ value for lookup.
struct Snapshot {
  static constexpr std::size_t kBlockBytes = 8u << 20;
  std::vector<std::unique_ptr<char[]>> blocks;
  std::size_t used = kBlockBytes;  // of the last block
  struct Person {
    std::uint64_t value = 0;
    std::uint32_t block = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    bool matched = false;
  };
  std::vector<Person> people;
  std::uint64_t rows = 0;

  void add(std::uint64_t value, std::string_view cells) {
    if (used + cells.size() > kBlockBytes) {
      blocks.push_back(std::make_unique<char[]>(std::max(kBlockBytes, cells.size())));
      used = 0;
    }
    std::memcpy(blocks.back().get() + used, cells.data(), cells.size());
    people.push_back({value, static_cast<std::uint32_t>(blocks.size() - 1),
                      static_cast<std::uint32_t>(used), static_cast<std::uint32_t>(cells.size()),
                      false});
    used += cells.size();
  }
  std::string_view cells(const Person& person) const {
    return {blocks[person.block].get() + person.offset, person.length};
  }
  // Sorts for lookup and keeps the first row of a repeated INSZ (as the export did).
  void index() {
    std::stable_sort(people.begin(), people.end(),
                     [](const Person& a, const Person& b) { return a.value < b.value; });
    people.erase(std::unique(people.begin(), people.end(),
                             [](const Person& a, const Person& b) { return a.value == b.value; }),
                 people.end());
  }
  Person* find(std::uint64_t value) {
    auto at = std::lower_bound(people.begin(), people.end(), value,
                               [](const Person& p, std::uint64_t v) { return p.value < v; });
    return at != people.end() && at->value == value ? &*at : nullptr;
  }
};

Result<Snapshot> load_snapshot(std::istream& in, std::string_view name, const Protocol& protocol) {
  CsvReader reader(in, std::string(name));
  auto columns = read_header(reader, protocol.extract_columns);
  if (!columns) return fail(std::move(columns).error());
  const std::size_t key = key_index(protocol.extract_columns, protocol.key_column);
  Snapshot snapshot;
  std::vector<std::string> fields;
  std::string cells;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), *columns));
    ++snapshot.rows;
    auto insz = Insz::parse(fields[key]);
    if (!insz) continue;  // never sent
    cells.clear();
    bool first = true;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i == key) continue;
      if (!first) cells += ';';
      first = false;
      CsvWriter::append_escaped(cells, fields[i]);
    }
    snapshot.add(insz->value(), cells);
  }
  snapshot.index();
  return snapshot;
}

}  // namespace

Result<MergeReport> merge_and_pseudonymise(std::istream& vdab_return, std::string_view return_name,
                                           std::istream& kbi_snapshot,
                                           std::string_view snapshot_name, const Protocol& protocol,
                                           const PseudonymKey* key, std::ostream& output_csv) {
  const bool keyed = protocol.pseudonym == PseudonymMode::hmac_sha256;
  if (keyed && key == nullptr) {
    return fail("merge.pseudonym_key_missing", "the protocol asks for keyed pseudonyms");
  }
  auto snapshot = load_snapshot(kbi_snapshot, snapshot_name, protocol);
  if (!snapshot) return fail(std::move(snapshot).error());

  CsvReader reader(vdab_return, std::string(return_name));
  auto columns = read_header(reader, protocol.return_columns);
  if (!columns) return fail(std::move(columns).error());
  const std::size_t return_key = key_index(protocol.return_columns, protocol.key_column);

  CsvWriter writer(output_csv);
  writer.write_row(protocol.output_columns());
  MergeReport report;
  report.snapshot_rows = snapshot->rows;
  report.sent = snapshot->people.size();
  std::unordered_set<std::uint64_t> returned_not_sent;  // duplicates among rows we never sent
  std::uint64_t first_not_sent_line = 0;
  std::vector<std::string> fields;
  std::string row;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), *columns));
    ++report.returned;
    auto insz = Insz::parse(fields[return_key]);
    if (!insz) {
      return fail("merge.invalid_insz", reader.where(return_key + 1) +
                                            "invalid INSZ in the return (" + insz.error().message +
                                            ")");
    }
    auto* person = snapshot->find(insz->value());
    const bool repeated =
        person != nullptr ? person->matched : !returned_not_sent.insert(insz->value()).second;
    if (repeated) {
      return fail("merge.duplicate_in_return",
                  reader.where(return_key + 1) + "this INSZ already appeared in the return");
    }
    if (person == nullptr) {
      if (report.not_sent++ == 0) first_not_sent_line = reader.record_line();
      continue;
    }
    person->matched = true;
    ++report.matched;
    row.clear();
    if (keyed) {
      row += key->pseudo_id(*insz);
      row += ';';
    }
    row += snapshot->cells(*person);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i == return_key) continue;
      row += ';';
      CsvWriter::append_escaped(row, fields[i]);
    }
    row += '\n';
    output_csv.write(row.data(), static_cast<std::streamsize>(row.size()));
    ++report.output_rows;
  }
  if (report.not_sent > 0) {
    return fail("merge.insz_not_sent",
                std::string(return_name) + ": " + std::to_string(report.not_sent) +
                    " rows hold an INSZ that was not sent in this run (first on line " +
                    std::to_string(first_not_sent_line) + "); the return is refused");
  }
  report.sent_missing_from_return = report.sent - report.matched;
  output_csv.flush();
  if (!output_csv) return fail("io.write", "cannot write the merged output (disk full?)");
  return report;
}

}  // namespace kbix
