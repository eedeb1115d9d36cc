// Manifest: the JSON description published next to every output (for the monitoring team and the
// DPO): run id, protocol, columns, counts, the output's SHA-256 and the pseudonym key id. It holds
// no personal data and no line numbers of individual people.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/merge.hpp"

namespace kbix {

// The disclosure check of the output (protocol [disclosure], docs/privacy.md): its action and
// what local suppression emptied. Counts only.
struct ManifestDisclosure {
  std::string action;
  int k = 0;
  std::uint64_t smallest_class = 0;
  std::uint64_t rows_in_small_classes = 0;
  std::uint64_t suppressed_rows = 0;
  std::uint64_t suppressed_cells = 0;
};

struct Manifest {
  std::string run_id;
  std::string protocol_id;
  std::string created_at_utc;
  std::string output_file;
  std::string output_sha256;
  std::string pseudonym_mode;
  std::string pseudonym_key_id;  // empty in mode "none"
  std::uint64_t output_bytes = 0;
  std::vector<std::string> columns;
  ExportReport export_report;
  MergeReport merge_report;
  std::optional<ManifestDisclosure> disclosure;
  std::vector<std::string> reports;  // report files published next to the manifest
};

std::string to_json(const Manifest& manifest);  // pretty-printed, ends with a newline

}  // namespace kbix
