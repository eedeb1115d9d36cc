// The steps of a municipal export (DESIGN.md §2, invariants 14 and 15): the extract is checked
// and sealed, the list made as a protected file with a fresh password sealed to AgII's own
// certificate, placed in the exchange's outbox for an operator, and its outbox copy removed once
// the operator has recorded the delivery (or kbix has dropped it by SFTP: export_delivery.cpp).
// exchange.cpp commits, audits and handles failure.
#include <sys/stat.h>

#include <algorithm>

#include "internal/exchange_internal.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/envelope/sealed_bytes.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/municipal/municipal_list.hpp"
#include "kbix/municipal/row_references.hpp"
#include "kbix/office/password.hpp"
#include "kbix/office/protected_file.hpp"
#include "kbix/runs/schedule.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

using municipal::ListCounts;
using municipal::ListRequest;
using municipal::MunicipalList;
using municipal::RowReferences;

nlohmann::json count_facts(const ListCounts& counts) {
  return {{"rows", counts.rows},
          {"invalid", counts.invalid},
          {"duplicates", counts.duplicates},
          {"in_scope", counts.in_scope},
          {"out_of_scope", counts.out_of_scope},
          {"left_out_for_retention", counts.left_out_for_retention},
          {"invalid_values", counts.invalid_values}};
}

std::chrono::sys_days today() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

Result<MunicipalList> list_of(const Config& config, InputFile& extract, std::string_view name) {
  return municipal::make_municipal_list(config.protocol,
                                        ListRequest{config.export_settings.residence_nis, today()},
                                        extract.fd(), name);
}

// The password is sealed from memory: it never exists as a plaintext file.
Status seal_password(const Config& config, const office::FilePassword& password,
                     const fs::path& sealed) {
  auto sealer = Sealer::create(snapshot_sealer_config(config));
  if (!sealer) return fail(std::move(sealer).error());
  const std::string_view text = password.reveal();
  auto report = seal_bytes(*sealer, std::as_bytes(std::span(text.data(), text.size())),
                           "the list's password", sealed);
  if (!report) return fail(std::move(report).error());
  return ok();
}

// The exchange's outbox folder: 2750, of the operators' group (control_group); setgid, so each
// list made inside keeps that group.
Status prepare_outbox(const Config& config) {
  return ensure_group_folder(config.outbox(), S_ISGID | 0750, config.daemon.control_group);
}

}  // namespace

std::string Exchange::list_file_name(const std::string& run_id) const {
  auto profile = office::parse_file_profile(config_.export_settings.profile);
  const std::string_view extension =
      profile ? office::profile_extension(*profile) : std::string_view(".xlsx");
  return config_.protocol.id + "_" + run_id + std::string(extension);
}

// planned -> extract_sealed: the extract is checked the way the list will read it (schema, INSZ,
// duplicates), then sealed to our own certificate; it leaves the inbox in the next step.
Result<Exchange::StepOutcome> Exchange::seal_export_extract(const RunRecord& run) {
  const fs::path extract = run.facts.value("extract_file", std::string{});
  std::error_code error;
  if (extract.empty() || !fs::exists(fs::symlink_status(extract, error))) {
    return fail("run.extract_missing",
                "the KBI extract " + extract.string() + " is no longer in the inbox");
  }
  auto input = InputFile::open(extract, "run.extract_not_regular");
  if (!input) return fail(std::move(input).error());
  auto checked = list_of(config_, *input, extract.filename().string());
  if (!checked) return fail(std::move(checked).error());
  auto extract_sha = input->sha256_hex();
  if (!extract_sha) return fail(std::move(extract_sha).error());
  auto sealer = Sealer::create(snapshot_sealer_config(config_));
  if (!sealer) return fail(std::move(sealer).error());
  const fs::path snapshot = run_directory(run.id) / "snapshot.csv.p7m";
  auto sealed = sealer->seal(input->fd(), input->path().string(), snapshot);
  if (!sealed) return fail(std::move(sealed).error());
  auto snapshot_sha = sha256_file_hex(snapshot);
  if (!snapshot_sha) return fail(std::move(snapshot_sha).error());
  return StepOutcome{RunState::extract_sealed,
                     {{"extract_sha256", *extract_sha},
                      {"extract_bytes", sealed->plaintext_bytes},
                      {"snapshot_sha256", *snapshot_sha},
                      {"snapshot_bytes", sealed->sealed_bytes},
                      {"list", count_facts(checked->counts)}},
                     "run.extract_sealed"};
}

// extract_sealed -> list_sealed: exactly the protocol's fields for exactly its people (inv. 14),
// as the protected file of the exchange's profile; its password is generated for this file and
// sealed at once (inv. 15). Repeating the step makes a new file and a new password.
Result<Exchange::StepOutcome> Exchange::make_list(const RunRecord& run) {
  KBIX_TRY(remove_sealed_extract(run));
  const fs::path dir = run_directory(run.id);
  const fs::path snapshot_plain = dir / "work" / "snapshot.csv";
  {
    auto opener = Opener::create(own_file_opener_config(config_));
    if (!opener) return fail(std::move(opener).error());
    auto opened = opener->open(dir / "snapshot.csv.p7m", snapshot_plain);
    if (!opened) return fail(std::move(opened).error());
  }
  auto input = InputFile::open(snapshot_plain, "io.read");
  if (!input) return fail(std::move(input).error());
  auto list = list_of(config_, *input, "snapshot.csv");
  if (!list) return fail(std::move(list).error());
  const ExportRules& rules = *config_.protocol.export_rules;
  nlohmann::json facts = {{"list", count_facts(list->counts)},
                          {"profile", config_.export_settings.profile}};
  if (rules.status_return) {
    // A random reference per person, kept with the INSZ only in our sealed state.
    std::error_code error;
    fs::create_directories(references_file().parent_path(), error);
    auto opener = Opener::create(own_file_opener_config(config_));
    if (!opener) return fail(std::move(opener).error());
    auto references = RowReferences::load(*opener, references_file(), config_.exchange.name);
    if (!references) return fail(std::move(references).error());
    list->table.header.push_back(rules.reference_column);
    for (std::size_t i = 0; i < list->table.rows.size(); ++i) {
      auto reference = references->reference_for(list->insz[i]);
      if (!reference) return fail(std::move(reference).error());
      list->table.rows[i].push_back(std::move(reference).value());
    }
    auto sealer = Sealer::create(snapshot_sealer_config(config_));
    if (!sealer) return fail(std::move(sealer).error());
    KBIX_TRY(references->save(*sealer, references_file()));
    facts["references"] = references->size();
  }
  auto profile = office::parse_file_profile(config_.export_settings.profile);
  if (!profile) return fail(std::move(profile).error());
  const fs::path list_path = dir / list_file_name(run.id);
  std::error_code ignored;
  fs::remove(list_path, ignored);  // a repeated step makes the file (and its password) anew
  fs::remove(dir / "password.p7m", ignored);
  if (*profile == office::FileProfile::cms) {
    // The municipality's own certificate: no password; the plain workbook exists in work/ only.
    const fs::path plain = dir / "work" / "list.xlsx";
    KBIX_TRY(office::write_workbook(list->table, plain));
    SealerConfig sealer_config = snapshot_sealer_config(config_);
    sealer_config.recipient_certificates = {config_.export_settings.recipient_certificate};
    auto sealer = Sealer::create(sealer_config);
    if (!sealer) return fail(std::move(sealer).error());
    auto sealed = sealer->seal(plain, list_path);
    if (!sealed) return fail(std::move(sealed).error());
  } else {
    auto password = office::FilePassword::generate();
    if (!password) return fail(std::move(password).error());
    KBIX_TRY(
        office::write_protected_file(list->table, *profile, *password, dir / "work", list_path));
    KBIX_TRY(seal_password(config_, *password, dir / "password.p7m"));
    facts["password_sealed"] = true;
  }
  auto list_sha = sha256_file_hex(list_path);
  if (!list_sha) return fail(std::move(list_sha).error());
  facts["list_file"] = list_path.filename().string();
  facts["list_sha256"] = *list_sha;
  return StepOutcome{RunState::list_sealed, std::move(facts), "export.list_sealed"};
}

// list_sealed -> placed: a copy in the outbox, for the operators' group to read and deliver.
Result<Exchange::StepOutcome> Exchange::place_list(const RunRecord& run) {
  KBIX_TRY(prepare_outbox(config_));
  const std::string name = run.facts.value("list_file", list_file_name(run.id));
  const fs::path placed = config_.outbox() / name;
  std::error_code error;
  if (fs::exists(placed, error)) {
    // A crash after the copy: the same file (by SHA-256) is fine, another one is not.
    auto sha = sha256_file_hex(placed);
    if (!sha || *sha != run.facts.value("list_sha256", std::string{})) {
      return fail("export.outbox_conflict",
                  placed.string() + " exists and is not this run's list; move it away");
    }
  } else {
    KBIX_TRY(publish_copy(run_directory(run.id) / name, placed));
  }
  // How it leaves from here (kbix status tells the operator what happens next).
  return StepOutcome{RunState::placed,
                     {{"outbox_file", placed.string()},
                      {"list_sha256", run.facts["list_sha256"]},
                      {"delivery", to_string(config_.export_settings.delivery)}},
                     "export.placed"};
}

// delivered -> done: the outbox copy goes; the sealed list and password stay in the run
// directory until the protocol's retention (or its end) removes them.
Result<Exchange::StepOutcome> Exchange::finish_export(const RunRecord& run) {
  const fs::path placed = run.facts.value("outbox_file", std::string{});
  std::error_code error;
  const bool removed = !placed.empty() && fs::remove(placed, error);
  if (error) return fail("io.remove", "cannot remove the outbox copy " + placed.string());
  return StepOutcome{RunState::done, {{"outbox_copy_removed", removed}}, "run.done"};
}

}  // namespace kbix
