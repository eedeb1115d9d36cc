// Disclosure: the re-identification risk of the pseudonymised output, and local suppression.
//
// Pseudonymised is not anonymous: a row whose combination of quasi-identifiers (the protocol's
// [disclosure] columns, e.g. age band, sex, nationality, region, residence status) is rare can
// point to one person. The output's rows are grouped into equivalence classes by those columns
// (an empty cell is a value of its own); the report gives the number of classes, the smallest
// class, the classes and rows in classes smaller than k, and per quasi-identifier the smallest
// class and the rows at risk if that column were removed (the first one listed raises the
// smallest class most).
// In a run the classes are counted while the output scan reads the file (DisclosureCounter): the
// report adds no read of its own; only "suppress" with a class below k reads the output again, to
// rewrite it. The class in which every quasi-identifier is empty matches any person and
// is reported apart (rows_all_empty), not as a class at risk.
//
// Actions (protocol disclosure.action): "report" changes nothing; "suppress" empties, row by row,
// quasi-identifier cells of rows in classes smaller than k (most contributing column first, then
// the next, until the row's class is large enough: local suppression as in ARX or sdcMicro) and
// rewrites the output; only cells of rows that were in small classes change, and afterwards no
// class but the all-empty one is smaller than k. "block" marks the report blocked when any class
// is smaller than k: the caller must not publish.
// Does NOT guarantee: protection against attribute disclosure (every row of a class may share the
// same sensitive value), against an attacker who knows columns not named as quasi-identifiers,
// or against linking several outputs over time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/output_scan.hpp"

namespace kbix {

struct ColumnContribution {
  std::string column;
  std::uint64_t smallest_class_without = 0;
  std::uint64_t rows_in_small_classes_without = 0;
};

struct DisclosureReport {
  std::string run_id;
  std::string protocol_id;
  std::vector<std::string> quasi_identifiers;
  int k = 5;
  DisclosureAction action = DisclosureAction::report;

  std::uint64_t rows = 0;
  std::uint64_t classes = 0;         // without the all-empty class
  std::uint64_t smallest_class = 0;  // 0 when there is no class
  std::uint64_t classes_below_k = 0;
  std::uint64_t rows_in_small_classes = 0;
  std::uint64_t unique_rows = 0;  // rows alone in their class
  std::uint64_t rows_all_empty = 0;
  std::vector<ColumnContribution> contributions;  // most contributing first

  // Filled by "suppress" (zero otherwise): what changed, and the classes afterwards.
  std::uint64_t suppressed_rows = 0;
  std::uint64_t suppressed_cells = 0;
  std::vector<std::pair<std::string, std::uint64_t>> suppressed_cells_per_column;
  std::uint64_t smallest_class_after = 0;
  std::uint64_t rows_in_small_classes_after = 0;

  bool blocked = false;  // "block" and a class below k: do not publish

  // "suppress" and a class below k: apply_disclosure and finish(..., true) rewrote the output
  // (assess_disclosure never does).
  bool rewrote_output() const {
    return action == DisclosureAction::suppress && rows_in_small_classes > 0;
  }
};

// Counts the output's equivalence classes from the records another pass reads, the output scan
// (scan_output with this as its observer), so that the report needs no read of its own: a run's
// merge step reads the output once for both. Memory holds each class once (its cells and its row
// count), never a row. A protocol that names no quasi-identifiers counts nothing.
class DisclosureCounter final : public OutputObserver {
 public:
  explicit DisclosureCounter(const Protocol& protocol);
  ~DisclosureCounter() override;
  DisclosureCounter(const DisclosureCounter&) = delete;
  DisclosureCounter& operator=(const DisclosureCounter&) = delete;

  // The header first (quasi-identifiers found by name), then each row.
  // Errors: disclosure.missing_column, schema.field_count (naming file and line).
  Status record(const std::vector<std::string_view>& fields, const RecordPlace& place) override;
  void clear() override;

  // The report over the records seen. With `act`, then the protocol's action: "block" sets
  // `blocked`; "suppress" rewrites `output_csv` (the file the records came from) when a class is
  // smaller than k, the only case that reads the file again. Errors:
  // disclosure.no_quasi_identifiers, disclosure.missing_column (no header seen); for the rewrite
  // also csv.*, io.* and disclosure.output_changed (the file no longer holds the rows counted).
  Result<DisclosureReport> finish(const std::filesystem::path& output_csv, bool act = true);

 private:
  struct State;
  std::string protocol_id_;
  DisclosurePolicy policy_;
  std::unique_ptr<State> state_;
};

// Reads the output CSV (header row; quasi-identifiers found by name) and reports; changes nothing.
// Errors: csv.*, disclosure.missing_column, disclosure.no_quasi_identifiers.
Result<DisclosureReport> assess_disclosure(const std::filesystem::path& output_csv,
                                           const Protocol& protocol);

// assess_disclosure, then the protocol's action: "suppress" replaces `output_csv` atomically with
// the suppressed version; "block" sets `blocked`. Errors also io.* for the rewrite.
Result<DisclosureReport> apply_disclosure(const std::filesystem::path& output_csv,
                                          const Protocol& protocol);

nlohmann::ordered_json disclosure_json(const DisclosureReport& report);
std::string disclosure_text(const DisclosureReport& report);

}  // namespace kbix
