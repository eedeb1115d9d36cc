#include "kbix/domain/merge.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "internal/output_pieces.hpp"
#include "internal/pieces.hpp"
#include "internal/u64_set.hpp"
#include "internal/zeroed_table.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {

std::size_t key_index(const std::vector<std::string>& columns, const std::string& key) {
  return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), key) - columns.begin());
}

// The snapshot's people: escaped output cells in blocks (a piece's own cells, or a fixed-size
// block filled on one thread; never the doubling reallocation of one huge string), people in file
// order, and an open-addressing table of their indices keyed by INSZ value (4 bytes a slot, load at
// most 1/2). A lookup costs about two cache misses where a binary search over a million people
// costs ten or more.
struct Snapshot {
  static constexpr std::size_t kBlockBytes = 8u << 20;
  std::vector<std::string> blocks;  // only appended to within their capacity: views stay valid
  struct Person {
    std::uint64_t value = 0;
    std::uint32_t block = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    bool matched = false;
  };
  std::vector<Person> people;
  detail::ZeroedTable<std::uint32_t> table;  // person index + 1; 0 is an empty slot
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
    while (table[at] != 0 && people[table[at] - 1].value != value) at = (at + 1) & mask;
    return at;
  }
  void prefetch(std::uint64_t value) const {
    if (!table.empty()) __builtin_prefetch(&table[slot_of(value, table.size() - 1)]);
  }
  // Room for `count` people without rehashing (a guess from the file size).
  void reserve(std::size_t count) {
    std::size_t slots = table.empty() ? 1024 : table.size();
    while (slots < count * 2) slots *= 2;
    if (slots > table.size()) rehash(slots);
    people.reserve(count);
  }
  void rehash(std::size_t slots) {
    table = detail::ZeroedTable<std::uint32_t>(slots);
    for (std::uint32_t i = 0; i < people.size(); ++i) table[probe(people[i].value)] = i + 1;
  }
  // Keeps the first row of a repeated INSZ (as the export did); false for a later one. Copies
  // `cells` into the last block.
  bool add(std::uint64_t value, std::string_view cells) {
    if (blocks.empty() || blocks.back().capacity() - blocks.back().size() < cells.size()) {
      blocks.emplace_back().reserve(std::max(kBlockBytes, cells.size()));
    }
    std::string& block = blocks.back();
    if (!index(value, static_cast<std::uint32_t>(blocks.size() - 1),
               static_cast<std::uint32_t>(block.size()),
               static_cast<std::uint32_t>(cells.size()))) {
      return false;
    }
    block.append(cells);
    return true;
  }
  // Takes `cells` as a block of its own, for people indexed next; its number.
  std::uint32_t adopt(std::string&& cells) {
    blocks.push_back(std::move(cells));
    return static_cast<std::uint32_t>(blocks.size() - 1);
  }
  // The person whose cells are blocks[block][offset, offset + length); as add().
  bool index(std::uint64_t value, std::uint32_t block, std::uint32_t offset, std::uint32_t length) {
    if ((people.size() + 1) * 2 > table.size()) rehash(table.empty() ? 1024 : table.size() * 2);
    const std::size_t slot = probe(value);
    if (table[slot] != 0) return false;
    people.push_back({value, block, offset, length, false});
    table[slot] = static_cast<std::uint32_t>(people.size());
    return true;
  }
  std::string_view cells(const Person& person) const {
    return {blocks[person.block].data() + person.offset, person.length};
  }
  // Read-only: safe on several threads while nothing is added.
  const Person* find(std::uint64_t value) const {
    if (table.empty()) return nullptr;
    const std::uint32_t at = table[probe(value)];
    return at == 0 ? nullptr : &people[at - 1];
  }
  Person* find(std::uint64_t value) {
    return const_cast<Person*>(static_cast<const Snapshot*>(this)->find(value));
  }
};

// The output cells of one snapshot row: every field but the key, escaped, ';' between them.
// `plain`: CsvReader::plain() of the record (csv.hpp).
void append_snapshot_cells(std::string& cells, const std::vector<std::string_view>& fields,
                           std::size_t key, bool plain) {
  CsvWriter::append_escaped(cells, fields, 0, key, plain);
  if (key > 0 && key + 1 < fields.size()) cells += ';';
  CsvWriter::append_escaped(cells, fields, key + 1, fields.size(), plain);
}

// One output row: [pseudo_id;] the snapshot's cells, the return's fields but the key.
void append_output_row(std::string& row, const PseudonymKey* key, const Insz& insz,
                       std::string_view cells, const std::vector<std::string_view>& fields,
                       std::size_t return_key, bool plain) {
  if (key != nullptr) {
    row += key->pseudo_id(insz);
    row += ';';
  }
  row += cells;
  if (return_key > 0) {
    row += ';';
    CsvWriter::append_escaped(row, fields, 0, return_key, plain);
  }
  if (return_key + 1 < fields.size()) {
    row += ';';
    CsvWriter::append_escaped(row, fields, return_key + 1, fields.size(), plain);
  }
  row += '\n';
}

// The tally of a piece's records, made on its worker thread the first time (merge.hpp).
RecordTally* piece_tally(std::unique_ptr<RecordTally>& piece, const RecordTally* total) {
  if (total == nullptr) return nullptr;
  if (piece == nullptr) piece = total->make();
  piece->clear();
  return piece.get();
}

Result<Snapshot> load_snapshot(std::istream& in, std::string_view name, const Protocol& protocol,
                               RecordTally* tally) {
  CsvReader reader(in, std::string(name));
  KBIX_ASSIGN_OR_RETURN(auto columns, read_header(reader, protocol.extract_columns));
  const std::size_t key = key_index(protocol.extract_columns, protocol.key_column);
  Snapshot snapshot;
  std::vector<std::string_view> fields;
  std::string cells;
  KBIX_TRY(for_each_record(reader, columns, fields, [&]() -> Status {
    ++snapshot.rows;
    auto insz = Insz::parse(fields[key]);
    if (tally != nullptr) tally->snapshot_record(fields, insz.has_value());
    if (!insz) return ok();  // never sent
    cells.clear();
    append_snapshot_cells(cells, fields, key, reader.plain());
    snapshot.add(insz->value(), cells);
    return ok();
  }));
  return snapshot;
}

// The return, read on one thread, joined with `snapshot` (which it marks).
Result<MergeReport> join_return(Snapshot& snapshot, std::istream& vdab_return,
                                std::string_view return_name, const Protocol& protocol,
                                const PseudonymKey* key, std::ostream& output_csv,
                                RecordTally* tally) {
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
  std::vector<std::string_view> fields;
  std::string row;
  KBIX_TRY(for_each_record(reader, columns, fields, [&]() -> Status {
    ++report.returned;
    if (tally != nullptr) tally->return_record(fields);
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
      return ok();
    }
    person->matched = true;
    ++report.matched;
    row.clear();
    append_output_row(row, key, *insz, snapshot.cells(*person), fields, return_key, reader.plain());
    output_csv.write(row.data(), static_cast<std::streamsize>(row.size()));
    ++report.output_rows;
    return ok();
  }));
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

// The snapshot read in pieces (file_pieces.hpp); nullopt when they are refused.
struct SnapshotWork {
  struct Row {
    std::uint64_t value = 0;
    std::uint32_t length = 0;
  };
  std::string cells;
  std::vector<Row> people;
  std::uint64_t rows = 0;
  std::size_t bytes = 0;
  std::vector<std::string_view> fields;
  std::unique_ptr<RecordTally> tally;
};

std::optional<Snapshot> load_snapshot_in_pieces(int fd, std::string_view name,
                                                const Protocol& protocol,
                                                const FileReading& reading, RecordTally* total) {
  const auto pieces =
      detail::table_pieces(fd, name, reading, protocol.extract_columns, protocol.key_column);
  if (!pieces) return std::nullopt;
  const detail::HeaderAt* header = &pieces->header;
  const std::size_t key = pieces->key;
  auto map = [&](std::string_view bytes, std::uint64_t, SnapshotWork& work) {
    work.cells = std::string();        // the last one was adopted by the snapshot
    work.cells.reserve(bytes.size());  // the piece less its keys, unless formulas were escaped
    work.people.clear();
    work.rows = 0;
    work.bytes = bytes.size();
    RecordTally* tally = piece_tally(work.tally, total);
    return pieces->for_each_record(bytes, work.fields, [&](const CsvReader& reader) {
      ++work.rows;
      auto insz = Insz::parse(work.fields[key]);
      if (tally != nullptr) tally->snapshot_record(work.fields, insz.has_value());
      if (!insz) return true;  // never sent
      const std::size_t before = work.cells.size();
      append_snapshot_cells(work.cells, work.fields, key, reader.plain());
      work.people.push_back(
          {insz->value(), static_cast<std::uint32_t>(work.cells.size() - before)});
      return true;
    });
  };
  Snapshot snapshot;
  auto consume = [&](SnapshotWork& work) {
    if (snapshot.rows == 0 && work.rows > 0) {  // people expected, from the first piece
      snapshot.reserve(static_cast<std::size_t>(static_cast<double>(work.rows) *
                                                static_cast<double>(header->size - header->offset) /
                                                static_cast<double>(work.bytes) * 1.05));
    }
    snapshot.rows += work.rows;
    if (snapshot.rows + 1 > pieces->limits.max_records) return false;  // the header is a record
    if (total != nullptr) total->add(*work.tally);
    constexpr std::size_t kAhead = 16;
    const std::uint32_t block = snapshot.adopt(std::move(work.cells));
    std::uint32_t at = 0;
    for (std::size_t i = 0; i < work.people.size(); ++i) {
      if (i + kAhead < work.people.size()) snapshot.prefetch(work.people[i + kAhead].value);
      const auto& row = work.people[i];
      snapshot.index(row.value, block, at, row.length);
      at += row.length;
    }
    return true;
  };
  detail::PieceReader reader(fd, header->offset, header->size, reading);
  if (!detail::for_each_piece<SnapshotWork>(reader, reading, map, consume)) return std::nullopt;
  return snapshot;
}

// The return read in pieces and joined on reading.workers threads, written in file order.
struct JoinWork {
  std::string rows;                   // the output rows of the piece
  std::vector<std::uint32_t> people;  // the snapshot person of each
  std::vector<std::string_view> fields;
  std::unique_ptr<RecordTally> tally;
  detail::OutputPieces::Work scan;
  bool scanned = false;  // the rows passed the output scan
};
enum class Joined { done, refused_before_writing, refused };

Joined join_in_pieces(Snapshot& snapshot, int fd, std::string_view name, const Protocol& protocol,
                      const PseudonymKey* key, std::ostream& output_csv, const FileReading& reading,
                      MergeReport& report, RecordTally* total, MergeOutputScan* scan) {
  const auto pieces =
      detail::table_pieces(fd, name, reading, protocol.return_columns, protocol.key_column);
  if (!pieces) return Joined::refused_before_writing;
  const detail::HeaderAt* header = &pieces->header;
  const std::size_t return_key = pieces->key;
  const CsvLimits& limits = pieces->limits;
  const Snapshot& people = snapshot;  // the threads only look up; the calling thread marks
  // The output scan (MergeOutputScan): the header as the file's first record, each piece's rows
  // as a piece of whole records. Rows end with a line feed, so a piece that does not is not
  // whole (it would run into the next one's first record): then the scan does not pass.
  std::string header_row;
  {
    std::ostringstream header_text;
    CsvWriter(header_text).write_row(protocol.output_columns());
    header_row = header_text.str();
  }
  std::optional<detail::OutputPieces> output_scan;
  bool scanning = false;  // set before the threads start, then only read
  if (scan != nullptr) {
    output_scan.emplace(scan->output_name, scan->key_column, scan->observer);
    CsvReader header_reader(header_row, std::string(scan->output_name), CsvLimits{}, true);
    scanning = output_scan->header(header_reader) && header_reader.consumed() == header_row.size();
  }
  bool passing = scanning;  // the calling thread's
  auto map = [&](std::string_view bytes, std::uint64_t, JoinWork& work) {
    work.rows.clear();
    work.people.clear();
    work.scanned = false;
    RecordTally* tally = piece_tally(work.tally, total);
    const bool joined = pieces->for_each_record(bytes, work.fields, [&](const CsvReader& reader) {
      if (tally != nullptr) tally->return_record(work.fields);
      auto insz = Insz::parse(work.fields[return_key]);
      if (!insz) return false;
      const auto* person = people.find(insz->value());
      if (person == nullptr) return false;  // not sent: the return is refused
      work.people.push_back(static_cast<std::uint32_t>(person - people.people.data()));
      append_output_row(work.rows, key, *insz, people.cells(*person), work.fields, return_key,
                        reader.plain());
      return true;
    });
    work.scanned = joined && scanning && (work.rows.empty() || work.rows.back() == '\n') &&
                   output_scan->scan(work.rows, work.scan);
    return joined;
  };
  auto consume = [&](JoinWork& work) {
    report.returned += work.people.size();
    if (report.returned + 1 > limits.max_records) return false;
    for (const std::uint32_t index : work.people) {
      auto& person = snapshot.people[index];
      if (person.matched) return false;  // repeated in the return
      person.matched = true;
    }
    report.matched += work.people.size();
    report.output_rows += work.people.size();
    if (total != nullptr) total->add(*work.tally);
    output_csv.write(work.rows.data(), static_cast<std::streamsize>(work.rows.size()));
    passing = passing && work.scanned && output_scan->consume(work.rows, work.scan);
    return true;
  };
  output_csv.write(header_row.data(), static_cast<std::streamsize>(header_row.size()));
  report.snapshot_rows = snapshot.rows;
  report.sent = snapshot.people.size();
  detail::PieceReader reader(fd, header->offset, header->size, reading);
  if (!detail::for_each_piece<JoinWork>(reader, reading, map, consume)) return Joined::refused;
  report.sent_missing_from_return = report.sent - report.matched;
  if (passing) {
    scan->passed = true;
    scan->report = output_scan->report();
  }
  return Joined::done;
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
  auto snapshot = load_snapshot(kbi_snapshot, snapshot_name, protocol, nullptr);
  if (!snapshot) return fail(std::move(snapshot).error());
  return join_return(*snapshot, vdab_return, return_name, protocol, keyed ? key : nullptr,
                     output_csv, nullptr);
}

Result<MergeReport> merge_and_pseudonymise(int return_fd, std::istream& vdab_return,
                                           std::string_view return_name, int snapshot_fd,
                                           std::istream& kbi_snapshot,
                                           std::string_view snapshot_name, const Protocol& protocol,
                                           const PseudonymKey* key, std::ostream& output_csv,
                                           const FileReading& reading, RecordTally* tally,
                                           MergeOutputScan* scan) {
  if (scan != nullptr) scan->passed = false;
  const bool keyed = protocol.pseudonym == PseudonymMode::hmac_sha256;
  if (keyed && key == nullptr) {
    return fail("pseudonym.key_missing", "the protocol asks for keyed pseudonyms");
  }
  if (!keyed) key = nullptr;
  auto snapshot = [&]() -> Result<Snapshot> {
    if (auto read = load_snapshot_in_pieces(snapshot_fd, snapshot_name, protocol, reading, tally)) {
      return std::move(*read);
    }
    if (tally != nullptr) tally->clear();  // the pieces may have counted some records
    return load_snapshot(kbi_snapshot, snapshot_name, protocol, tally);
  }();
  if (!snapshot) return fail(std::move(snapshot).error());
  MergeReport report;
  const auto joined = join_in_pieces(*snapshot, return_fd, return_name, protocol, key, output_csv,
                                     reading, report, tally, scan);
  if (scan != nullptr && !scan->passed && scan->observer != nullptr) scan->observer->clear();
  if (joined == Joined::done) {
    output_csv.flush();
    if (!output_csv) return fail("io.write", "cannot write the merged output (disk full?)");
    return report;
  }
  if (joined == Joined::refused_before_writing) {
    return join_return(*snapshot, vdab_return, return_name, protocol, key, output_csv, tally);
  }
  // Part of the output is written: the sequential join runs only for its exact error.
  for (auto& person : snapshot->people) person.matched = false;
  detail::DiscardStream discard;
  auto again = join_return(*snapshot, vdab_return, return_name, protocol, key, discard, nullptr);
  if (!again) return again;
  return fail("merge.read", std::string(return_name) +
                                ": the file could not be read in pieces (changed while read?)");
}

}  // namespace kbix
