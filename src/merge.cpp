#include "kbix/merge.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kbix/csv.hpp"
#include "kbix/insz.hpp"
#include "kbix/schema.hpp"

namespace kbix {

namespace {

std::size_t key_index(const std::vector<std::string>& columns, const std::string& key) {
  return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), key) - columns.begin());
}

// The snapshot's people: escaped output cells in one arena, indexed by INSZ value.
struct Snapshot {
  std::string arena;
  struct Slot {
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
    bool matched = false;
  };
  std::unordered_map<std::uint64_t, Slot> people;
  std::uint64_t rows = 0;
};

Result<Snapshot> load_snapshot(std::istream& in, std::string_view name, const Protocol& protocol) {
  CsvReader reader(in, std::string(name));
  auto columns = read_header(reader, protocol.extract_columns);
  if (!columns) return fail(std::move(columns).error());
  const std::size_t key = key_index(protocol.extract_columns, protocol.key_column);
  Snapshot snapshot;
  std::vector<std::string> fields;
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), *columns));
    ++snapshot.rows;
    auto insz = Insz::parse(fields[key]);
    if (!insz || snapshot.people.contains(insz->value())) continue;  // never sent
    const std::uint64_t offset = snapshot.arena.size();
    bool first = true;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i == key) continue;
      if (!first) snapshot.arena += ';';
      first = false;
      CsvWriter::append_escaped(snapshot.arena, fields[i]);
    }
    snapshot.people.emplace(
        insz->value(),
        Snapshot::Slot{offset, static_cast<std::uint32_t>(snapshot.arena.size() - offset), false});
  }
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
  std::unordered_set<std::uint64_t> returned;
  returned.reserve(snapshot->people.size());
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
    if (!returned.insert(insz->value()).second) {
      return fail("merge.duplicate_in_return",
                  reader.where(return_key + 1) + "this INSZ already appeared in the return");
    }
    const auto person = snapshot->people.find(insz->value());
    if (person == snapshot->people.end()) {
      if (report.not_sent++ == 0) first_not_sent_line = reader.record_line();
      continue;
    }
    person->second.matched = true;
    ++report.matched;
    row.clear();
    if (keyed) {
      row += key->pseudo_id(*insz);
      row += ';';
    }
    row.append(snapshot->arena, person->second.offset, person->second.length);
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
