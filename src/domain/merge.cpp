#include "kbix/domain/merge.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "internal/u64_set.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {

std::size_t key_index(const std::vector<std::string>& columns, const std::string& key) {
  return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), key) - columns.begin());
}

// The snapshot's people: escaped output cells in an arena of fixed-size blocks (no doubling
// reallocation of one huge string), people in file order, and an open-addressing table of
// their indices keyed by INSZ value (4 bytes a slot, load at most 1/2). A lookup costs about
// two cache misses where a binary search over a million people costs ten or more.
struct Snapshot {
  static constexpr std::size_t kBlockBytes = 8u << 20;
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
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
  std::vector<std::uint32_t> table;
  std::uint64_t rows = 0;

  static std::size_t slot_of(std::uint64_t value, std::size_t mask) {
    value ^= value >> 33;  // the low digits of an INSZ are check digits: mix before masking
    value *= 0xff51afd7ed558ccdULL;
    value ^= value >> 33;
    return static_cast<std::size_t>(value) & mask;
  }
  // The slot holding `value`, or the empty slot where it would go.
  std::size_t probe(std::uint64_t value) const {
    const std::size_t mask = table.size() - 1;
    std::size_t at = slot_of(value, mask);
    while (table[at] != kEmpty && people[table[at]].value != value) at = (at + 1) & mask;
    return at;
  }
  void grow() {
    table.assign(table.empty() ? 1024 : table.size() * 2, kEmpty);
    for (std::uint32_t i = 0; i < people.size(); ++i) table[probe(people[i].value)] = i;
  }
  // Keeps the first row of a repeated INSZ (as the export did); false for a later one.
  bool add(std::uint64_t value, std::string_view cells) {
    if ((people.size() + 1) * 2 > table.size()) grow();
    const std::size_t slot = probe(value);
    if (table[slot] != kEmpty) return false;
    if (used + cells.size() > kBlockBytes) {
      blocks.push_back(std::make_unique<char[]>(std::max(kBlockBytes, cells.size())));
      used = 0;
    }
    std::memcpy(blocks.back().get() + used, cells.data(), cells.size());
    table[slot] = static_cast<std::uint32_t>(people.size());
    people.push_back({value, static_cast<std::uint32_t>(blocks.size() - 1),
                      static_cast<std::uint32_t>(used), static_cast<std::uint32_t>(cells.size()),
                      false});
    used += cells.size();
    return true;
  }
  std::string_view cells(const Person& person) const {
    return {blocks[person.block].get() + person.offset, person.length};
  }
  Person* find(std::uint64_t value) {
    if (table.empty()) return nullptr;
    const std::uint32_t at = table[probe(value)];
    return at == kEmpty ? nullptr : &people[at];
  }
};

Result<Snapshot> load_snapshot(std::istream& in, std::string_view name, const Protocol& protocol) {
  CsvReader reader(in, std::string(name));
  KBIX_ASSIGN_OR_RETURN(auto columns, read_header(reader, protocol.extract_columns));
  const std::size_t key = key_index(protocol.extract_columns, protocol.key_column);
  Snapshot snapshot;
  std::vector<std::string> fields;
  std::string cells;
  for (;;) {
    KBIX_ASSIGN_OR_RETURN(auto more, reader.next(fields));
    if (!more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), columns));
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
  return snapshot;
}

}  // namespace

Result<MergeReport> merge_and_pseudonymise(std::istream& vdab_return, std::string_view return_name,
                                           std::istream& kbi_snapshot,
                                           std::string_view snapshot_name, const Protocol& protocol,
                                           const PseudonymKey* key, std::ostream& output_csv) {
  const bool keyed = protocol.pseudonym == PseudonymMode::hmac_sha256;
  if (keyed && key == nullptr) {
    return fail("pseudonym.key_missing", "the protocol asks for keyed pseudonyms");
  }
  KBIX_ASSIGN_OR_RETURN(auto snapshot, load_snapshot(kbi_snapshot, snapshot_name, protocol));

  CsvReader reader(vdab_return, std::string(return_name));
  KBIX_ASSIGN_OR_RETURN(auto columns, read_header(reader, protocol.return_columns));
  const std::size_t return_key = key_index(protocol.return_columns, protocol.key_column);

  CsvWriter writer(output_csv);
  writer.write_row(protocol.output_columns());
  MergeReport report;
  report.snapshot_rows = snapshot.rows;
  report.sent = snapshot.people.size();
  detail::U64Set returned_not_sent;  // duplicates among rows we never sent
  std::uint64_t first_not_sent_line = 0;
  std::vector<std::string> fields;
  std::string row;
  for (;;) {
    KBIX_ASSIGN_OR_RETURN(auto more, reader.next(fields));
    if (!more) break;
    KBIX_TRY(check_field_count(reader, fields.size(), columns));
    ++report.returned;
    auto insz = Insz::parse(fields[return_key]);
    if (!insz) {
      return fail("merge.invalid_insz", reader.where(return_key + 1) +
                                            "invalid INSZ in the return (" + insz.error().message +
                                            ")");
    }
    auto* person = snapshot.find(insz->value());
    const bool repeated =
        person != nullptr ? person->matched : !returned_not_sent.insert(insz->value());
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
    row += snapshot.cells(*person);
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
