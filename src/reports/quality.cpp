#include "kbix/reports/quality.hpp"

#include <algorithm>
#include <unordered_set>

#include "internal/report_text.hpp"
#include "kbix/domain/csv.hpp"
#include "kbix/domain/insz.hpp"
#include "kbix/domain/schema.hpp"

namespace kbix {

namespace {

std::string describe(const ColumnDomain& domain) {
  if (domain.kind == ColumnDomain::Kind::date) {
    return "date " + format_date(domain.earliest) + " .. " +
           (domain.latest ? format_date(*domain.latest) : std::string("report day"));
  }
  std::string text = "codes ";
  for (std::size_t i = 0; i < domain.codes.size(); ++i) {
    if (i > 0) text += ", ";
    text += domain.codes[i];
  }
  if (!domain.separator.empty()) text += " (several, separated by '" + domain.separator + "')";
  return text;
}

// One column's checker: counts into its ColumnQuality. Dates are compared as calendar dates and
// codes through a CodeList: the checks run on every cell of both files.
class ColumnCheck {
 public:
  ColumnCheck(const ColumnDomain* domain, std::chrono::sys_days as_of) : domain_(domain) {
    if (domain_ == nullptr) return;
    if (domain_->kind == ColumnDomain::Kind::date) {
      earliest_ = std::chrono::year_month_day{domain_->earliest};
      latest_ = std::chrono::year_month_day{domain_->latest.value_or(as_of)};
    } else {
      codes_.emplace(*domain_);
    }
  }

  void check(std::string_view value, ColumnQuality& quality) const {
    if (value.empty()) {
      ++quality.empty;
      return;
    }
    if (domain_ == nullptr) return;
    if (domain_->kind == ColumnDomain::Kind::date) {
      const auto day = parse_calendar_date(value);
      if (!day) {
        ++quality.unparseable_date;
      } else if (*day < earliest_) {
        ++quality.before_range;
      } else if (*day > latest_) {
        ++quality.after_range;
      }
      return;
    }
    if (!codes_->allows(value)) ++quality.not_in_list;
  }

 private:
  const ColumnDomain* domain_;
  std::chrono::year_month_day earliest_{};
  std::chrono::year_month_day latest_{};
  std::optional<CodeList> codes_;
};

// The checks of one file's columns (all but the key), by position in its records.
struct Checks {
  std::vector<ColumnCheck> checks;
  std::vector<std::size_t> positions;
  std::vector<ColumnQuality> names;  // per checked column, the counts all zero
  std::size_t key = 0;

  Checks(const std::vector<std::string>& columns, const Protocol& protocol,
         std::chrono::sys_days as_of) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == protocol.key_column) {
        key = i;
        continue;
      }
      const auto found = protocol.domains.find(columns[i]);
      const ColumnDomain* domain = found == protocol.domains.end() ? nullptr : &found->second;
      checks.emplace_back(domain, as_of);
      positions.push_back(i);
      names.push_back({columns[i], domain ? describe(*domain) : ""});
    }
  }
  std::vector<ColumnQuality> empty_counts() const { return names; }
  template <class Field>
  void count(const std::vector<Field>& fields, DatasetQuality& quality) const {
    for (std::size_t c = 0; c < checks.size(); ++c) {
      checks[c].check(fields[positions[c]], quality.columns[c]);
    }
  }
};

void add_counts(DatasetQuality& to, const DatasetQuality& from) {
  to.rows += from.rows;
  to.invalid_insz += from.invalid_insz;
  to.duplicate_insz += from.duplicate_insz;
  for (std::size_t c = 0; c < to.columns.size(); ++c) {
    auto& a = to.columns[c];
    const auto& b = from.columns[c];
    a.empty += b.empty;
    a.unparseable_date += b.unparseable_date;
    a.before_range += b.before_range;
    a.after_range += b.after_range;
    a.not_in_list += b.not_in_list;
  }
}

// Streams one dataset: per-column counts, and hands each valid INSZ to `on_insz` (false when it
// is a repeat, which is then counted as a duplicate).
template <class OnInsz>
Result<DatasetQuality> assess_dataset(std::istream& in, std::string_view name,
                                      const std::vector<std::string>& columns,
                                      const Protocol& protocol, std::chrono::sys_days as_of,
                                      OnInsz on_insz) {
  CsvReader reader(in, std::string(name));
  KBIX_ASSIGN_OR_RETURN(auto count, read_header(reader, columns));
  DatasetQuality quality;
  const Checks checks(columns, protocol, as_of);
  quality.columns = checks.empty_counts();
  const std::size_t key = checks.key;
  std::unordered_set<std::uint64_t> seen;
  std::vector<std::string> fields;
  KBIX_TRY(for_each_record(reader, count, fields, [&]() -> Status {
    ++quality.rows;
    checks.count(fields, quality);
    auto insz = Insz::parse(fields[key]);
    if (!insz) {
      ++quality.invalid_insz;
    } else if (!seen.insert(insz->value()).second) {
      ++quality.duplicate_insz;
    } else {
      on_insz(insz->value());
    }
    return ok();
  }));
  return quality;
}

}  // namespace

Result<QualityReport> assess_quality(std::istream& extract, std::string_view extract_name,
                                     std::istream& vdab_return, std::string_view return_name,
                                     const Protocol& protocol, std::chrono::sys_days as_of) {
  QualityReport report;
  report.protocol_id = protocol.id;
  report.partner = protocol.partner;
  report.as_of = as_of;
  std::unordered_set<std::uint64_t> sent;
  auto extract_quality = assess_dataset(extract, extract_name, protocol.extract_columns, protocol,
                                        as_of, [&](std::uint64_t insz) { sent.insert(insz); });
  if (!extract_quality) return fail(std::move(extract_quality).error());
  report.extract = std::move(*extract_quality);
  report.sent = sent.size();
  std::uint64_t matched = 0;
  auto return_quality = assess_dataset(vdab_return, return_name, protocol.return_columns, protocol,
                                       as_of, [&](std::uint64_t insz) {
                                         if (sent.contains(insz)) {
                                           ++matched;
                                         } else {
                                           ++report.return_not_sent;
                                         }
                                       });
  if (!return_quality) return fail(std::move(return_quality).error());
  report.returned = std::move(*return_quality);
  report.not_returned = report.sent - matched;
  return report;
}

struct QualityTally::Setup {
  Checks extract;
  Checks returned;
  std::string protocol_id;
  std::string partner;
  std::chrono::sys_days as_of;
};

QualityTally::QualityTally(const Protocol& protocol, std::chrono::sys_days as_of)
    : QualityTally(
          std::make_shared<const Setup>(Setup{Checks(protocol.extract_columns, protocol, as_of),
                                              Checks(protocol.return_columns, protocol, as_of),
                                              protocol.id, protocol.partner, as_of})) {}

QualityTally::QualityTally(std::shared_ptr<const Setup> setup) : setup_(std::move(setup)) {
  clear();
}

std::unique_ptr<RecordTally> QualityTally::make() const {
  return std::unique_ptr<RecordTally>(new QualityTally(setup_));
}

void QualityTally::snapshot_record(const std::vector<std::string_view>& fields, bool insz_valid) {
  ++extract_.rows;
  if (!insz_valid) ++extract_.invalid_insz;
  setup_->extract.count(fields, extract_);
}

void QualityTally::return_record(const std::vector<std::string_view>& fields) {
  ++returned_.rows;
  setup_->returned.count(fields, returned_);
}

void QualityTally::add(const RecordTally& other) {
  const auto& piece = static_cast<const QualityTally&>(other);
  add_counts(extract_, piece.extract_);
  add_counts(returned_, piece.returned_);
}

void QualityTally::clear() {
  extract_ = DatasetQuality{0, 0, 0, setup_->extract.empty_counts()};
  returned_ = DatasetQuality{0, 0, 0, setup_->returned.empty_counts()};
}

QualityReport QualityTally::report(const MergeReport& merged) const {
  QualityReport report;
  report.protocol_id = setup_->protocol_id;
  report.partner = setup_->partner;
  report.as_of = setup_->as_of;
  report.extract = extract_;
  // The first row of each valid INSZ was sent; every other valid one repeats it.
  report.extract.duplicate_insz = extract_.rows - extract_.invalid_insz - merged.sent;
  report.returned = returned_;
  report.sent = merged.sent;
  report.not_returned = merged.sent - merged.matched;
  return report;
}

namespace {

nlohmann::ordered_json columns_json(const DatasetQuality& dataset, bool with_domain) {
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  for (const auto& column : dataset.columns) {
    nlohmann::ordered_json entry = {{"column", column.column}};
    if (with_domain) entry["domain"] = column.domain;
    entry["empty"] = column.empty;
    entry["out_of_domain"] = {{"unparseable_date", column.unparseable_date},
                              {"before_range", column.before_range},
                              {"after_range", column.after_range},
                              {"not_in_list", column.not_in_list}};
    columns.push_back(std::move(entry));
  }
  return columns;
}

}  // namespace

nlohmann::ordered_json quality_json(const QualityReport& r) {
  return {{"report", "quality"},
          {"version", 1},
          {"run_id", r.run_id},
          {"protocol_id", r.protocol_id},
          {"as_of", format_date(r.as_of)},
          {"extract",
           {{"rows", r.extract.rows},
            {"invalid_insz", r.extract.invalid_insz},
            {"duplicate_insz", r.extract.duplicate_insz},
            {"sent", r.sent},
            {"columns", columns_json(r.extract, true)}}},
          {"return",
           {{"rows", r.returned.rows},
            {"invalid_insz", r.returned.invalid_insz},
            {"duplicate_insz", r.returned.duplicate_insz},
            {"not_sent", r.return_not_sent},
            {"sent_not_returned", r.not_returned},
            {"columns", columns_json(r.returned, true)}}}};
}

nlohmann::ordered_json partner_summary_json(const QualityReport& r) {
  return {{"report", "quality-partner-summary"},
          {"version", 1},
          {"protocol_id", r.protocol_id},
          {"article", 7},
          {"partner", r.partner},
          {"run_id", r.run_id},
          {"as_of", format_date(r.as_of)},
          {"sent", r.sent},
          {"returned", r.returned.rows},
          {"sent_not_returned", r.not_returned},
          {"returned_not_sent", r.return_not_sent},
          {"invalid_insz", r.returned.invalid_insz},
          {"duplicate_insz", r.returned.duplicate_insz},
          {"columns", columns_json(r.returned, false)}};
}

namespace {

void dataset_text(std::string& out, const DatasetQuality& dataset, bool with_domain) {
  detail::TextTable table({"column", "empty", "bad date", "too early", "too late", "not in list"});
  if (with_domain)
    table = detail::TextTable(
        {"column", "empty", "bad date", "too early", "too late", "not in list", "domain"});
  for (const auto& c : dataset.columns) {
    std::vector<std::string> row = {c.column,
                                    std::to_string(c.empty),
                                    std::to_string(c.unparseable_date),
                                    std::to_string(c.before_range),
                                    std::to_string(c.after_range),
                                    std::to_string(c.not_in_list)};
    if (with_domain) row.push_back(c.domain.empty() ? "-" : c.domain);
    table.add(std::move(row));
  }
  out += table.render();
}

}  // namespace

std::string quality_text(const QualityReport& r) {
  std::string out = "Data quality, run " + r.run_id + " (protocol " + r.protocol_id +
                    ", article 7), dates checked against " + format_date(r.as_of) + "\n\n";
  out += "KBI extract: " + std::to_string(r.extract.rows) + " rows, " +
         std::to_string(r.extract.invalid_insz) + " invalid INSZ, " +
         std::to_string(r.extract.duplicate_insz) + " duplicate INSZ, " + std::to_string(r.sent) +
         " sent\n";
  dataset_text(out, r.extract, true);
  out += "\nReturn: " + std::to_string(r.returned.rows) + " rows, " +
         std::to_string(r.returned.invalid_insz) + " invalid INSZ, " +
         std::to_string(r.returned.duplicate_insz) + " duplicate INSZ, " +
         std::to_string(r.return_not_sent) + " not sent by AgII, " +
         std::to_string(r.not_returned) + " sent but not returned\n";
  dataset_text(out, r.returned, true);
  return out;
}

std::string partner_summary_text(const QualityReport& r) {
  std::string out = "Kwaliteitsmelding (artikel 7, protocol " + r.protocol_id + ") aan " +
                    r.partner + "\nData-quality notice (article 7) to " + r.partner + ", run " +
                    r.run_id + ", " + format_date(r.as_of) + "\n\n";
  out += "People sent: " + std::to_string(r.sent) +
         "; rows returned: " + std::to_string(r.returned.rows) +
         "; sent but not returned: " + std::to_string(r.not_returned) +
         "; returned but not sent: " + std::to_string(r.return_not_sent) +
         "; invalid INSZ: " + std::to_string(r.returned.invalid_insz) +
         "; duplicate INSZ: " + std::to_string(r.returned.duplicate_insz) + "\n\n";
  out += "Per column of the return (counts only; no values, no line numbers):\n";
  dataset_text(out, r.returned, false);
  out +=
      "\nThe protocol (article 7) asks the receiving party to investigate and to report the "
      "measures taken within two weeks.\n";
  return out;
}

}  // namespace kbix
