#include "kbix/reports/run_reports.hpp"

#include "kbix/core/buffered_file.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/reports/quality.hpp"

namespace kbix {

namespace fs = std::filesystem;

const std::vector<std::string>& report_file_names() {
  static const std::vector<std::string> names = {"quality.json",         "quality.txt",
                                                 "quality-partner.json", "quality-partner.txt",
                                                 "disclosure.json",      "disclosure.txt"};
  return names;
}

std::string published_report_name(const std::string& protocol_id, const std::string& run_id,
                                  const std::string& file) {
  return protocol_id + "_" + run_id + "." + file;
}

Result<nlohmann::json> write_quality_reports(const fs::path& run_dir, const std::string& run_id,
                                             const fs::path& extract_csv,
                                             const fs::path& return_csv, const Protocol& protocol,
                                             std::chrono::sys_days as_of) {
  BufferedInput extract(extract_csv);
  BufferedInput vdab_return(return_csv);
  if (!extract.good() || !vdab_return.good()) {
    return fail("io.read", "cannot read " + extract_csv.string() + " or " + return_csv.string());
  }
  auto report =
      assess_quality(extract.stream(), extract_csv.filename().string(), vdab_return.stream(),
                     return_csv.filename().string(), protocol, as_of);
  if (!report) return fail(std::move(report).error());
  return write_quality_reports(run_dir, run_id, std::move(*report));
}

Result<nlohmann::json> write_quality_reports(const fs::path& run_dir, const std::string& run_id,
                                             QualityReport assessed) {
  const QualityReport* report = &assessed;
  assessed.run_id = run_id;
  const std::string json = quality_json(*report).dump(2) + "\n";
  const std::string partner = partner_summary_json(*report).dump(2) + "\n";
  KBIX_TRY(write_file_atomically(run_dir / "quality.json", json, 0640));
  KBIX_TRY(write_file_atomically(run_dir / "quality.txt", quality_text(*report), 0640));
  KBIX_TRY(write_file_atomically(run_dir / "quality-partner.json", partner, 0640));
  KBIX_TRY(
      write_file_atomically(run_dir / "quality-partner.txt", partner_summary_text(*report), 0640));
  auto columns_out_of_domain = [](const DatasetQuality& d) {
    std::uint64_t n = 0;
    for (const auto& c : d.columns) n += c.out_of_domain();
    return n;
  };
  auto empties = [](const DatasetQuality& d) {
    std::uint64_t n = 0;
    for (const auto& c : d.columns) n += c.empty;
    return n;
  };
  return nlohmann::json{{"report_sha256", sha256_hex(json)},
                        {"partner_summary_sha256", sha256_hex(partner)},
                        {"as_of", format_date(report->as_of)},
                        {"extract",
                         {{"rows", report->extract.rows},
                          {"empty_cells", empties(report->extract)},
                          {"out_of_domain_cells", columns_out_of_domain(report->extract)},
                          {"invalid_insz", report->extract.invalid_insz},
                          {"duplicate_insz", report->extract.duplicate_insz}}},
                        {"return",
                         {{"rows", report->returned.rows},
                          {"empty_cells", empties(report->returned)},
                          {"out_of_domain_cells", columns_out_of_domain(report->returned)},
                          {"invalid_insz", report->returned.invalid_insz},
                          {"duplicate_insz", report->returned.duplicate_insz},
                          {"not_sent", report->return_not_sent}}},
                        {"sent", report->sent},
                        {"sent_not_returned", report->not_returned}};
}

Result<std::optional<DisclosureOutcome>> write_disclosure_report(const fs::path& run_dir,
                                                                 const std::string& run_id,
                                                                 const fs::path& output_csv,
                                                                 const Protocol& protocol,
                                                                 DisclosureCounter& counted) {
  if (protocol.disclosure.quasi_identifiers.empty()) return std::optional<DisclosureOutcome>{};
  KBIX_ASSIGN_OR_RETURN(auto report, counted.finish(output_csv));
  report.run_id = run_id;
  const std::string json = disclosure_json(report).dump(2) + "\n";
  KBIX_TRY(write_file_atomically(run_dir / "disclosure.json", json, 0640));
  KBIX_TRY(write_file_atomically(run_dir / "disclosure.txt", disclosure_text(report), 0640));
  DisclosureOutcome outcome{report,
                            {{"report_sha256", sha256_hex(json)},
                             {"action", to_string(report.action)},
                             {"k", report.k},
                             {"rows", report.rows},
                             {"classes", report.classes},
                             {"smallest_class", report.smallest_class},
                             {"rows_in_small_classes", report.rows_in_small_classes},
                             {"suppressed_rows", report.suppressed_rows},
                             {"suppressed_cells", report.suppressed_cells},
                             {"blocked", report.blocked}}};
  return std::optional<DisclosureOutcome>{std::move(outcome)};
}

Status refuse_if_blocked(const DisclosureOutcome& outcome, const fs::path& run_dir) {
  if (!outcome.report.blocked) return ok();
  return fail("disclosure.blocked",
              std::to_string(outcome.report.rows_in_small_classes) +
                  " rows are in classes smaller than k = " + std::to_string(outcome.report.k) +
                  "; the protocol's disclosure.action is \"block\": nothing is published (see " +
                  (run_dir / "disclosure.txt").string() + ")");
}

void describe_reports(const std::optional<DisclosureOutcome>& disclosure, const fs::path& run_dir,
                      const std::string& protocol_id, const std::string& run_id,
                      Manifest& manifest) {
  if (disclosure) {
    const auto& d = disclosure->report;
    manifest.disclosure = ManifestDisclosure{to_string(d.action), d.k,
                                             d.smallest_class,    d.rows_in_small_classes,
                                             d.suppressed_rows,   d.suppressed_cells};
  }
  for (const auto& name : report_file_names()) {
    if (fs::exists(run_dir / name)) {
      manifest.reports.push_back(published_report_name(protocol_id, run_id, name));
    }
  }
}

}  // namespace kbix
