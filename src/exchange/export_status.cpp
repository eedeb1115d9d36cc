// The status coming back from a municipality (the template protocol): an operator drops the
// municipality's file (*.xlsx or *.csv, the extension in any case; the reader tells the format
// by content) in <inbox_dir>/status-<exchange>/; each tick reads it (kbix/municipal/
// status_return.hpp: size-bounded, whole file refused on any unknown reference, value outside
// the closed list, duplicate or damage), publishes the statuses with the INSZ for AgII's
// counsellors in [export] status_dir, audits it and removes the file. A refused file is renamed
// "<name>.refused" (kept, never read again) and the refusal audited with its line, never a value.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "internal/exchange_internal.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/municipal/row_references.hpp"
#include "kbix/municipal/status_return.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

// A status return by its name: an Excel workbook or a CSV file, the extension in any case.
bool is_status_return_name(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string extension = name.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == "csv" || extension == "xlsx";
}

}  // namespace

fs::path Exchange::status_inbox() const {
  return config_.daemon.inbox_dir / ("status-" + config_.exchange.name);
}

fs::path Exchange::references_file() const {
  return config_.daemon.state_dir / "references" / (config_.exchange.name + ".p7m");
}

Status Exchange::import_status_returns(Clock::time_point now) {
  if (!config_.is_export() || !config_.protocol.export_rules->status_return) return ok();
  const fs::path inbox = status_inbox();
  std::error_code error;
  if (!fs::exists(inbox, error)) {
    // Like the extract inbox (2770): the operators' group writes, kbix reads.
    return ensure_group_folder(inbox, S_ISGID | 0770, config_.daemon.control_group);
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator entry(inbox, error); !error && entry != fs::directory_iterator();
       entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (is_status_return_name(name)) files.push_back(entry->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const std::string shown = sanitize_untrusted_text(file.filename().string());
    auto opener = Opener::create(own_file_opener_config(config_));
    if (!opener) return fail(std::move(opener).error());
    auto references =
        municipal::RowReferences::load(*opener, references_file(), config_.exchange.name);
    if (!references) return fail(std::move(references).error());
    municipal::StatusReturnOptions options;
    options.allowed_statuses = config_.protocol.export_rules->status_codes;
    if (!config_.protocol.export_rules->reference_column.empty()) {
      options.reference_column = config_.protocol.export_rules->reference_column;
    }
    auto imported = municipal::read_status_return(file, *references, options);
    const ScopedLogFields fields({"", imported ? "export.status_imported" : "export.status_refused",
                                  imported ? "" : imported.error().code});
    if (!imported) {
      // Kept beside the others under a name no tick reads again; the operator asks the
      // municipality for a corrected file.
      fs::rename(file, fs::path(file.string() + ".refused"), error);
      spdlog::warn("status return {} refused: {}", shown, imported.error().describe());
      KBIX_TRY(record("", "export.status_refused",
                      {{"file", shown},
                       {"code", imported.error().code},
                       {"message", imported.error().message}}));
      continue;
    }
    const std::string received = utc_timestamp(now).substr(0, 10);
    const fs::path output =
        config_.export_settings.status_dir /
        ("statuses_" + config_.exchange.name + "_" + imported->sha256.substr(0, 16) + ".csv");
    fs::create_directories(config_.export_settings.status_dir, error);
    auto published = municipal::publish_statuses(imported->statuses, received, output);
    if (!published && published.error().code != "io.exists") {
      return fail(std::move(published).error());
    }
    const bool already = !published;  // the same file (by SHA-256) was imported before
    fs::remove(file, error);
    spdlog::info("status return {}: {} statuses {}", shown, imported->statuses.size(),
                 already ? "already published" : "published");
    KBIX_TRY(record("", "export.status_imported",
                    {{"file", shown},
                     {"sha256", imported->sha256},
                     {"statuses", imported->statuses.size()},
                     {"without_status", imported->without_status},
                     {"blank_rows", imported->blank_rows},
                     {"published", output.filename().string()},
                     {"already_published", already}}));
  }
  return ok();
}

}  // namespace kbix
