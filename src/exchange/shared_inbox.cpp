// One extract read by several exchanges of the same source (issue 14): the inbox folder of a
// source holds one extract; every exchange that reads it seals its own snapshot, and the
// plaintext leaves the inbox only when the last of them has (invariant 10 for all of them).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "kbix/core/file_safety.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/exchange/exchange.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

Result<std::string> extract_sha256(const fs::path& extract) {
  auto input = InputFile::open(extract, "run.extract_not_regular");
  if (!input) return fail(std::move(input).error());
  return input->sha256_hex();
}

bool has_sealed(const RunRecord& run, std::string_view sha) {
  return run.facts.value("extract_sha256", std::string{}) == sha;
}

}  // namespace

Status Exchange::sealed_before(const fs::path& extract) const {
  if (config_.exchange.source_readers.size() <= 1) return ok();  // removed once sealed
  auto sha = extract_sha256(extract);
  if (!sha) return fail(std::move(sha).error());
  auto runs = store_.list(config_.exchange.name);
  if (!runs) return fail(std::move(runs).error());
  for (const auto& run : *runs) {
    if (!has_sealed(run, *sha)) continue;
    return fail("run.extract_already_sealed",
                "the extract " + extract.filename().string() + " in " + config_.inbox().string() +
                    " was already sealed by run " + run.id +
                    " of this exchange; it stays there until every exchange of source '" +
                    config_.exchange.source + "' has sealed it");
  }
  return ok();
}

Result<std::vector<std::string>> Exchange::readers_still_to_seal(std::string_view sha) const {
  std::vector<std::string> waiting;
  for (const auto& reader : config_.exchange.source_readers) {
    if (reader == config_.exchange.name) continue;
    auto runs = store_.list(reader);
    if (!runs) return fail(std::move(runs).error());
    const bool sealed = std::any_of(runs->begin(), runs->end(),
                                    [&](const RunRecord& run) { return has_sealed(run, sha); });
    if (!sealed) waiting.push_back(reader);
  }
  return waiting;
}

// The operator's plaintext extract is no longer needed once the snapshot is sealed and that is
// committed (invariant 10), by this exchange and every other exchange of its source. Only the
// very file that was sealed (same SHA-256) is removed.
Status Exchange::remove_sealed_extract(const RunRecord& run) {
  const fs::path extract = run.facts.value("extract_file", std::string{});
  std::error_code error;
  if (extract.empty() || !fs::exists(fs::symlink_status(extract, error))) return ok();
  auto sha = extract_sha256(extract);
  if (!sha || *sha != run.facts.value("extract_sha256", std::string{})) {
    return ok();  // gone, or something else took the name: left alone
  }
  auto waiting = readers_still_to_seal(*sha);
  if (!waiting) return fail(std::move(waiting).error());
  if (!waiting->empty()) {
    if (run.facts.value("extract_kept_for", nlohmann::json()).is_array()) return ok();
    KBIX_TRY(store_.merge_facts(run.id, {{"extract_kept_for", *waiting}}));
    spdlog::info(
        "run {}: the extract stays in {} for the exchanges of source {} that have not "
        "sealed it yet ({})",
        run.id, config_.inbox().string(), config_.exchange.source, waiting->size());
    return record(
        run.id, "inbox.extract_kept",
        {{"file", extract.filename().string()}, {"sha256", *sha}, {"waiting_for", *waiting}});
  }
  fs::remove(extract, error);
  if (error) return fail("io.remove", "cannot remove the sealed extract " + extract.string());
  KBIX_TRY(sync_directory(extract.parent_path()));
  return record(run.id, "inbox.extract_removed",
                {{"file", extract.filename().string()}, {"sha256", *sha}});
}

}  // namespace kbix
