#include "kbix/domain/manifest.hpp"

#include <nlohmann/json.hpp>

#include "kbix/core/untrusted_text.hpp"

namespace kbix {

std::string to_json(const Manifest& m) {
  const auto& e = m.export_report;
  const auto& r = m.merge_report;
  nlohmann::ordered_json json = {
      {"manifest_version", 1},
      {"run_id", m.run_id},
      {"protocol_id", m.protocol_id},
      {"created_at", m.created_at_utc},
      {"output_file", m.output_file},
      {"output_sha256", m.output_sha256},
      {"output_bytes", m.output_bytes},
      {"columns", m.columns},
      {"pseudonym", {{"mode", m.pseudonym_mode}, {"key_id", m.pseudonym_key_id}}},
      {"export",
       {{"rows", e.rows},
        {"exported", e.exported},
        {"invalid_insz", e.invalid_insz},
        {"duplicate_insz", e.duplicate_insz},
        {"bis_insz", e.bis_insz},
        {"calendar_warnings", e.calendar_warnings}}},
      {"merge",
       {{"snapshot_rows", r.snapshot_rows},
        {"sent", r.sent},
        {"returned", r.returned},
        {"matched", r.matched},
        {"not_sent", r.not_sent},
        {"sent_missing_from_return", r.sent_missing_from_return},
        {"output_rows", r.output_rows}}}};
  if (const auto& d = m.disclosure) {
    json["disclosure"] = {{"action", d->action},
                          {"k", d->k},
                          {"smallest_class", d->smallest_class},
                          {"rows_in_small_classes", d->rows_in_small_classes},
                          {"suppressed_rows", d->suppressed_rows},
                          {"suppressed_cells", d->suppressed_cells}};
  }
  if (!m.reports.empty()) json["reports"] = m.reports;
  return dump_json(json, 2) + "\n";
}

}  // namespace kbix
