// Quality: the article 7 data-quality report of one run, with no personal value in it.
//
// Article 7 of the VDAB protocol: data are not cleaned at the source, and each party reports
// errors, missing or outdated values to the other, who acts within two weeks. This report counts,
// for the KBI extract and for the partner's return, per column: empty cells and values outside
// the protocol's [domains] (a date that does not parse, lies before `from` or after `until` / the
// day of the report; a code outside a closed list); and the invalid and duplicate INSZ, the INSZ
// of the return that were never sent, and the sent INSZ the partner did not return (counts only).
//
// Two forms: the full report for AgII's data team (both datasets, the domains used, the INSZ
// counts), and the partner summary (the article 7 notice to the partner: the return's columns,
// counts per column and kind, no value, no line number, no INSZ).
// Does NOT guarantee: that a value inside its domain is correct (a plausible wrong date passes),
// nor anything about free-text columns, which have no domain.
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/domain/merge.hpp"

namespace kbix {

struct ColumnQuality {
  std::string column;
  std::string domain;  // "date 2004-04-01 .. report day", "codes M|V|X", "" (no domain)
  std::uint64_t empty = 0;
  std::uint64_t unparseable_date = 0;  // not an ISO date YYYY-MM-DD of the calendar
  std::uint64_t before_range = 0;
  std::uint64_t after_range = 0;
  std::uint64_t not_in_list = 0;  // a cell with a code (or one of its codes) outside the list
  std::uint64_t out_of_domain() const {
    return unparseable_date + before_range + after_range + not_in_list;
  }
};

struct DatasetQuality {
  std::uint64_t rows = 0;
  std::uint64_t invalid_insz = 0;
  std::uint64_t duplicate_insz = 0;    // repeats after the first
  std::vector<ColumnQuality> columns;  // the dataset's columns without the key, in file order
};

struct QualityReport {
  std::string run_id;
  std::string protocol_id;
  std::string partner;
  std::chrono::sys_days as_of{};  // "until" of date domains without one
  DatasetQuality extract;
  DatasetQuality returned;
  std::uint64_t sent = 0;             // valid, first-occurrence INSZ of the extract (the outbound)
  std::uint64_t return_not_sent = 0;  // valid INSZ in the return that were not sent
  std::uint64_t not_returned = 0;     // sent INSZ absent from the return
};

// Reads both files (headers must be the protocol's extract and return columns). Errors: csv.*,
// schema.* from the readers, naming the file and line, never a value.
Result<QualityReport> assess_quality(std::istream& extract, std::string_view extract_name,
                                     std::istream& vdab_return, std::string_view return_name,
                                     const Protocol& protocol, std::chrono::sys_days as_of);

// The same report counted while the merge reads both files (kbix/domain/merge.hpp), so a run's
// merge step reads them once. Valid only for a merge that succeeded: the return then holds no
// invalid, repeated or unsent INSZ (a merge that failed: use assess_quality for the report).
class QualityTally final : public RecordTally {
 public:
  QualityTally(const Protocol& protocol, std::chrono::sys_days as_of);
  std::unique_ptr<RecordTally> make() const override;
  void snapshot_record(const std::vector<std::string_view>& fields, bool insz_valid) override;
  void return_record(const std::vector<std::string_view>& fields) override;
  void add(const RecordTally& other) override;
  void clear() override;
  QualityReport report(const MergeReport& merged) const;

 private:
  struct Setup;
  explicit QualityTally(std::shared_ptr<const Setup> setup);
  std::shared_ptr<const Setup> setup_;
  DatasetQuality extract_;
  DatasetQuality returned_;
};

// The data team's report (JSON and text) and the partner summary (JSON and text).
nlohmann::ordered_json quality_json(const QualityReport& report);
std::string quality_text(const QualityReport& report);
nlohmann::ordered_json partner_summary_json(const QualityReport& report);
std::string partner_summary_text(const QualityReport& report);

}  // namespace kbix
