// RunReports: the privacy reports of one run as files in its run directory, for the exchange
// steps (which publish them next to the manifest) and for `kbix run report` / `kbix evidence`.
//
// Files (counts and column names only): quality.json and quality.txt (AgII's data team),
// quality-partner.json and quality-partner.txt (the article 7 notice for the partner),
// disclosure.json and disclosure.txt. Each writer returns the details for its audit entry
// ("report.quality", "report.disclosure"): the counts that matter and the report's SHA-256, so the
// evidence report can prove which report belonged to the run.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kbix/core/protocol.hpp"
#include "kbix/core/result.hpp"
#include "kbix/domain/manifest.hpp"
#include "kbix/reports/disclosure.hpp"
#include "kbix/reports/quality.hpp"

namespace kbix {

// Assesses the opened snapshot and return (plaintext in work/) and writes the quality files.
Result<nlohmann::json> write_quality_reports(const std::filesystem::path& run_dir,
                                             const std::string& run_id,
                                             const std::filesystem::path& extract_csv,
                                             const std::filesystem::path& return_csv,
                                             const Protocol& protocol, std::chrono::sys_days as_of);

// Writes the quality files of a report already counted (QualityTally::report, by the merge).
Result<nlohmann::json> write_quality_reports(const std::filesystem::path& run_dir,
                                             const std::string& run_id, QualityReport assessed);

struct DisclosureOutcome {
  DisclosureReport report;
  nlohmann::json audit_details;
};

// The disclosure report over the classes `counted` saw while the output scan read `output_csv`,
// then the protocol's action (suppress rewrites the output: scan it again before publishing), and
// the disclosure files; nullopt when the protocol names no quasi-identifiers.
Result<std::optional<DisclosureOutcome>> write_disclosure_report(
    const std::filesystem::path& run_dir, const std::string& run_id,
    const std::filesystem::path& output_csv, const Protocol& protocol, DisclosureCounter& counted);

// disclosure.blocked (not retryable) when the protocol's action "block" found a class below k.
Status refuse_if_blocked(const DisclosureOutcome& outcome, const std::filesystem::path& run_dir);

// Adds the disclosure counts and the names of the published report files to the manifest.
void describe_reports(const std::optional<DisclosureOutcome>& disclosure,
                      const std::filesystem::path& run_dir, const std::string& protocol_id,
                      const std::string& run_id, Manifest& manifest);

// The report files a run directory may hold, in publication order.
const std::vector<std::string>& report_file_names();

// "<protocol>_<run>.<file>", next to "<protocol>_<run>.manifest.json".
std::string published_report_name(const std::string& protocol_id, const std::string& run_id,
                                  const std::string& file);

}  // namespace kbix
