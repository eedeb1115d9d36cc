// The steps of a round trip (see kbix/exchange.hpp): each returns the state it reached and the
// facts to commit with it; exchange.cpp commits, audits and handles failure.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "internal/exchange_internal.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/manifest.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/domain/pseudonym.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/sftp/retry.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

namespace fs = std::filesystem;
using detail::BufferedInput;
using detail::BufferedOutput;

namespace {

Result<OpenReport> open_sealed(const OpenerConfig& config, const fs::path& sealed,
                               const fs::path& plaintext) {
  auto opener = Opener::create(config);
  if (!opener) return fail(std::move(opener).error());
  std::error_code ignored;
  fs::remove(plaintext, ignored);
  return opener->open(sealed, plaintext);
}

Result<SealReport> seal_file(const SealerConfig& config, const fs::path& plaintext,
                             const fs::path& sealed) {
  auto sealer = Sealer::create(config);
  if (!sealer) return fail(std::move(sealer).error());
  return sealer->seal(plaintext, sealed);
}

// Copies `from` to `to` atomically without ever replacing `to` (publication happens once).
Status publish_copy(const fs::path& from, const fs::path& to) {
  auto out = AtomicFile::create_new(to, 0640);
  if (!out) return fail(std::move(out).error());
  std::ifstream in(from, std::ios::binary);
  if (!in) return fail("io.read", "cannot read " + from.string());
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got > 0) KBIX_TRY(out->write(std::string_view(buffer.data(), got)));
  }
  if (in.bad()) return fail("io.read", "error reading " + from.string());
  return out->commit();
}

Status sync_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return fail("io.sync", "cannot fsync " + file.string());
  }
  ::close(fd);
  return ok();
}

nlohmann::json export_facts(const ExportReport& report) {
  return {{"rows", report.rows},
          {"exported", report.exported},
          {"invalid_insz", report.invalid_insz},
          {"duplicate_insz", report.duplicate_insz},
          {"bis_insz", report.bis_insz},
          {"calendar_warnings", report.calendar_warnings}};
}

nlohmann::json merge_facts(const MergeReport& report) {
  return {{"snapshot_rows", report.snapshot_rows},
          {"sent", report.sent},
          {"returned", report.returned},
          {"matched", report.matched},
          {"not_sent", report.not_sent},
          {"sent_missing_from_return", report.sent_missing_from_return},
          {"output_rows", report.output_rows}};
}

}  // namespace

// planned -> extract_sealed: the extract is checked (export rules, nothing written) and sealed to
// our own certificate; from then on the run never needs the operator's plaintext file again.
Result<Exchange::StepOutcome> Exchange::seal_extract(const RunRecord& run) {
  const fs::path extract = run.facts.value("extract_file", std::string{});
  if (extract.empty() || !fs::exists(extract)) {
    return fail("run.extract_missing",
                "the KBI extract " + extract.string() + " is no longer in the inbox");
  }
  const std::string extract_name = extract.filename().string();
  ExportReport report;
  {
    BufferedInput in(extract);
    if (!in.good()) return fail("io.read", "cannot read " + extract.string());
    std::ofstream discard;  // validation only: the outbound file is made from the snapshot
    discard.setstate(std::ios::badbit);
    auto checked = export_outbound(in.stream(), extract_name, config_.protocol, discard);
    if (!checked) return fail(std::move(checked).error());
    report = *checked;
  }
  if (report.exported == 0) {
    return fail("run.empty_extract", extract_name + ": no valid INSZ to send");
  }
  auto extract_sha = sha256_file_hex(extract);
  if (!extract_sha) return fail(std::move(extract_sha).error());
  const fs::path snapshot = run_directory(run.id) / "snapshot.csv.p7m";
  auto sealed = seal_file(snapshot_sealer_config(config_), extract, snapshot);
  if (!sealed) return fail(std::move(sealed).error());
  auto snapshot_sha = sha256_file_hex(snapshot);
  if (!snapshot_sha) return fail(std::move(snapshot_sha).error());
  return StepOutcome{RunState::extract_sealed,
                     {{"extract_sha256", *extract_sha},
                      {"extract_bytes", sealed->plaintext_bytes},
                      {"snapshot_sha256", *snapshot_sha},
                      {"snapshot_bytes", sealed->sealed_bytes},
                      {"export", export_facts(report)}},
                     "run.extract_sealed"};
}

// The operator's plaintext extract is no longer needed once the snapshot is sealed and that is
// committed (invariant 10). Only the very file that was sealed (same SHA-256) is removed.
Status Exchange::remove_sealed_extract(const RunRecord& run) {
  const fs::path extract = run.facts.value("extract_file", std::string{});
  if (extract.empty() || !fs::exists(extract)) return ok();
  auto sha = sha256_file_hex(extract);
  if (!sha || *sha != run.facts.value("extract_sha256", std::string{})) return ok();
  std::error_code error;
  fs::remove(extract, error);
  if (error) return fail("io.remove", "cannot remove the sealed extract " + extract.string());
  KBIX_TRY(sync_directory(extract.parent_path()));
  return record(run.id, "inbox.extract_removed",
                {{"file", extract.filename().string()}, {"sha256", *sha}});
}

// extract_sealed -> outbound_sealed: INSZ-only outbound file (inv. 1) sealed to VDAB and to us.
Result<Exchange::StepOutcome> Exchange::seal_outbound(const RunRecord& run) {
  KBIX_TRY(remove_sealed_extract(run));
  const fs::path dir = run_directory(run.id);
  const fs::path snapshot_plain = dir / "work" / "snapshot.csv";
  const fs::path outbound_plain = dir / "work" / "outbound.csv";
  KBIX_TRY(open_sealed(own_file_opener_config(config_), dir / "snapshot.csv.p7m", snapshot_plain));
  ExportReport report;
  {
    BufferedInput in(snapshot_plain);
    BufferedOutput out(outbound_plain);
    if (!in.good() || !out.good()) return fail("io.write", "cannot prepare " + dir.string());
    auto exported = export_outbound(in.stream(), "snapshot.csv", config_.protocol, out.stream());
    if (!exported) return fail(std::move(exported).error());
    KBIX_TRY(out.close());
    report = *exported;
  }
  auto sealer_config = outbound_sealer_config(config_);
  if (!sealer_config) return fail(std::move(sealer_config).error());
  const fs::path outbound = dir / "outbound.csv.p7m";
  auto sealed = seal_file(*sealer_config, outbound_plain, outbound);
  if (!sealed) return fail(std::move(sealed).error());
  auto outbound_sha = sha256_file_hex(outbound);
  if (!outbound_sha) return fail(std::move(outbound_sha).error());
  return StepOutcome{RunState::outbound_sealed,
                     {{"outbound_sha256", *outbound_sha},
                      {"outbound_bytes", sealed->sealed_bytes},
                      {"outbound_rows", report.exported},
                      {"envelope_profile", config_.partner.envelope_profile}},
                     "run.outbound_sealed"};
}

// outbound_sealed -> uploaded: once (inv. 8). Just before the rename the temporary name is
// committed as `upload_renaming`. After a crash: a final name on the server with our size is our
// own upload; a return already waiting means the partner took the file; the recorded temporary
// file gone without a final name means it was renamed and the partner took it before sending the
// return. In none of these is the file sent again. A temporary file still there was never
// renamed: it is removed and the upload starts over.
Result<Exchange::StepOutcome> Exchange::upload_outbound(const RunRecord& run) {
  const fs::path outbound = run_directory(run.id) / "outbound.csv.p7m";
  const std::string remote_name = outbound_remote_name(config_.protocol.id, run.id);
  const std::uint64_t size = run.facts.value("outbound_bytes", std::uint64_t{0});
  auto client = connect_remote(run.id);
  if (!client) return fail(std::move(client).error());
  RemoteStore& remote = **client;
  const auto& sftp = config_.sftp;
  nlohmann::json facts = {{"outbound_remote_name", remote_name},
                          {"outbound_remote_dir", sftp.outbound_dir}};
  // Only "not there" lets the upload go ahead: a failed look (a lost connection) proves nothing,
  // and uploading after it could send a file the partner already took (inv. 8).
  auto existing = remote.stat(sftp.outbound_dir, remote_name);
  if (!existing && existing.error().code != "sftp.not_found") return fail(existing.error());
  if (existing && existing->size == size) {
    facts["upload"] = "found on the server (earlier attempt)";
    facts["outbound_remote_bytes"] = existing->size;
    return StepOutcome{RunState::uploaded, facts, "run.upload_confirmed"};
  }
  if (existing) {
    return fail("run.remote_conflict", sftp.outbound_dir + "/" + remote_name + " exists with " +
                                           std::to_string(existing->size) + " bytes, expected " +
                                           std::to_string(size));
  }
  auto returned = remote.stat(sftp.return_dir, return_remote_name(config_.protocol.id, run.id));
  if (!returned && returned.error().code != "sftp.not_found") return fail(returned.error());
  if (returned) {
    facts["upload"] = "return already present (earlier attempt)";
    return StepOutcome{RunState::uploaded, facts, "run.upload_confirmed"};
  }
  if (const auto pending = run.facts.find("upload_renaming");
      pending != run.facts.end() && pending->is_string()) {
    const std::string temporary = pending->get<std::string>();
    auto left = remote.stat(sftp.outbound_dir, temporary);
    if (!left && left.error().code == "sftp.not_found") {
      facts["upload"] = "renamed before a crash, then taken by the partner (earlier attempt)";
      facts["upload_temporary_name"] = temporary;
      return StepOutcome{RunState::uploaded, facts, "run.upload_confirmed"};
    }
    if (!left) return fail(std::move(left).error());
    auto removed = remote.remove(sftp.outbound_dir, temporary);
    if (!removed && removed.error().code != "sftp.not_found") return fail(removed.error());
    KBIX_TRY(store_.merge_facts(run.id, {{"upload_renaming", nullptr}}));
  }
  auto sent = remote.upload(
      outbound, sftp.outbound_dir, remote_name,
      [this, &run](std::uint64_t done, std::uint64_t total) {
        progress(run.id, "upload", done, total);
      },
      [this, &run](const std::string& temporary) -> Status {
        KBIX_TRY(store_.merge_facts(run.id, {{"upload_renaming", temporary}}));
        maybe_kill_at("upload_renaming");
        return ok();
      });
  if (!sent) {
    // A lost connection may have cut the rename itself: keep the record, the next attempt looks.
    // Otherwise the upload removed its temporary file, and a kept record would mislead it.
    if (!is_transient(sent.error())) {
      (void)store_.merge_facts(run.id, {{"upload_renaming", nullptr}});
    }
    return fail(std::move(sent).error());
  }
  maybe_kill_at("upload_renamed");
  facts["upload"] = "uploaded";
  facts["outbound_remote_bytes"] = *sent;
  return StepOutcome{RunState::uploaded, facts, "run.upload"};
}

// return_downloaded -> return_verified: tag and pinned signature (inv. 3), columns checked by the
// merge; plaintext exists only in work/ during this step.
Result<Exchange::StepOutcome> Exchange::verify_return(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  auto opened =
      open_sealed(return_opener_config(config_), dir / "return.csv.p7m", dir / "work/return.csv");
  if (!opened) return fail(std::move(opened).error());
  return StepOutcome{RunState::return_verified,
                     {{"return_signer_sha256", opened->signer_fingerprint_sha256},
                      {"return_plaintext_bytes", opened->plaintext_bytes}},
                     "run.return_verified"};
}

// return_verified -> merged: join, pseudonymise, scan (inv. 4) and describe in a manifest; the
// output waits in the run directory until it is published.
Result<Exchange::StepOutcome> Exchange::merge_return(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  const fs::path snapshot_plain = dir / "work/snapshot.csv";
  const fs::path return_plain = dir / "work/return.csv";
  KBIX_TRY(open_sealed(own_file_opener_config(config_), dir / "snapshot.csv.p7m", snapshot_plain));
  KBIX_TRY(open_sealed(return_opener_config(config_), dir / "return.csv.p7m", return_plain));

  std::optional<PseudonymKey> key;
  if (config_.protocol.pseudonym == PseudonymMode::hmac_sha256) {
    if (!config_.keys.pseudonym_key_file) {
      return fail("run.pseudonym_key_missing",
                  "the protocol asks for hmac-sha256 pseudonyms but keys.pseudonym_key_file is "
                  "not set in " +
                      config_.file.string());
    }
    auto loaded = PseudonymKey::load(*config_.keys.pseudonym_key_file);
    if (!loaded) return fail(std::move(loaded).error());
    key.emplace(std::move(*loaded));
  }
  const fs::path partial = dir / "work/output.csv";
  progress(run.id, "merge", 0, run.facts.value("return_plaintext_bytes", std::uint64_t{0}));
  MergeReport report;
  {
    BufferedInput returned(return_plain);
    BufferedInput snapshot(snapshot_plain);
    BufferedOutput out(partial);
    if (!returned.good() || !snapshot.good() || !out.good()) {
      return fail("io.write", "cannot prepare the merge in " + dir.string());
    }
    const std::string return_name = return_remote_name(config_.protocol.id, run.id);
    auto merged =
        merge_and_pseudonymise(returned.stream(), return_name, snapshot.stream(), "snapshot.csv",
                               config_.protocol, key ? &*key : nullptr, out.stream());
    if (!merged) return fail(std::move(merged).error());
    KBIX_TRY(out.close());
    report = *merged;
  }
  progress(run.id, "scan", 0, report.output_rows);
  {
    BufferedInput output(partial);
    auto scanned = scan_output(output.stream(), "output.csv");
    if (!scanned) return fail(std::move(scanned).error());
  }
  KBIX_TRY(sync_file(partial));
  auto output_sha = sha256_file_hex(partial);
  if (!output_sha) return fail(std::move(output_sha).error());

  Manifest manifest;
  manifest.run_id = run.id;
  manifest.protocol_id = config_.protocol.id;
  manifest.created_at_utc = utc_timestamp(Clock::now());
  manifest.output_file = published_output(run.id).filename().string();
  manifest.output_sha256 = *output_sha;
  manifest.output_bytes = fs::file_size(partial);
  manifest.pseudonym_mode = to_string(config_.protocol.pseudonym);
  manifest.pseudonym_key_id = key ? key->key_id() : "";
  manifest.columns = config_.protocol.output_columns();
  manifest.merge_report = report;
  if (run.facts.contains("export")) {
    const auto& e = run.facts["export"];
    manifest.export_report.rows = e.value("rows", std::uint64_t{0});
    manifest.export_report.exported = e.value("exported", std::uint64_t{0});
    manifest.export_report.invalid_insz = e.value("invalid_insz", std::uint64_t{0});
    manifest.export_report.duplicate_insz = e.value("duplicate_insz", std::uint64_t{0});
    manifest.export_report.bis_insz = e.value("bis_insz", std::uint64_t{0});
    manifest.export_report.calendar_warnings = e.value("calendar_warnings", std::uint64_t{0});
  }
  KBIX_TRY(write_file_atomically(dir / "manifest.json", to_json(manifest), 0640));
  std::error_code error;
  fs::rename(partial, dir / "output.csv", error);
  if (error) return fail("io.rename", "cannot move the output into " + dir.string());
  KBIX_TRY(sync_directory(dir));
  return StepOutcome{RunState::merged,
                     {{"merge", merge_facts(report)},
                      {"output_sha256", *output_sha},
                      {"output_bytes", manifest.output_bytes},
                      {"pseudonym_mode", manifest.pseudonym_mode},
                      {"pseudonym_key_id", manifest.pseudonym_key_id},
                      {"scan", "no INSZ found"}},
                     "run.merged"};
}

// merged -> published: atomic, once (inv. 8): a file already published is compared by SHA-256.
Result<Exchange::StepOutcome> Exchange::publish_output(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  const std::string expected_sha = run.facts.value("output_sha256", std::string{});
  std::string how = "published";
  for (const auto& [from, to] : {std::pair{dir / "output.csv", published_output(run.id)},
                                 std::pair{dir / "manifest.json", published_manifest(run.id)}}) {
    if (fs::exists(to)) {
      if (from.filename() == "output.csv") {
        auto sha = sha256_file_hex(to);
        if (!sha) return fail(std::move(sha).error());
        if (*sha != expected_sha) {
          return fail("run.publish_conflict",
                      to.string() + " exists with other content; it is left untouched");
        }
      }
      how = "found published (earlier attempt)";
      continue;
    }
    KBIX_TRY(publish_copy(from, to));
  }
  return StepOutcome{RunState::published,
                     {{"published_output", published_output(run.id).string()},
                      {"published_manifest", published_manifest(run.id).string()},
                      {"publish", how}},
                     "run.published"};
}

// published -> cleaned: remote files deleted (inv. 10) and the local copy of the output dropped;
// the sealed files stay as evidence until the retention purge.
Result<Exchange::StepOutcome> Exchange::clean_up(const RunRecord& run) {
  auto client = connect_remote(run.id);
  if (!client) return fail(std::move(client).error());
  RemoteStore& remote = **client;
  auto removed = remove_remote_files(
      remote, run.id,
      {{config_.sftp.outbound_dir, outbound_remote_name(config_.protocol.id, run.id)},
       {config_.sftp.return_dir, return_remote_name(config_.protocol.id, run.id)}});
  if (!removed) return fail(std::move(removed).error());
  std::error_code ignored;
  fs::remove(run_directory(run.id) / "output.csv", ignored);
  return StepOutcome{RunState::cleaned, {{"remote_removed", *removed}}, "run.cleaned"};
}

Status Exchange::download_return(const RunRecord& run, RemoteStore& remote,
                                 const RemoteEntry& entry) {
  const fs::path local = run_directory(run.id) / "return.csv.p7m";
  std::error_code ignored;
  fs::remove(local, ignored);  // a leftover of an interrupted download: the state says not done
  KBIX_TRY(
      record(run.id, "run.return_detected",
             {{"remote_file", config_.sftp.return_dir + "/" + entry.name}, {"bytes", entry.size}}));
  auto got = remote.download(config_.sftp.return_dir, entry.name, local,
                             [this, &run](std::uint64_t done, std::uint64_t total) {
                               progress(run.id, "download", done, total);
                             });
  if (!got) return fail(std::move(got).error());
  auto sha = sha256_file_hex(local);
  if (!sha) return fail(std::move(sha).error());
  const nlohmann::json facts = {
      {"return_remote_name", entry.name}, {"return_bytes", *got}, {"return_sha256", *sha}};
  const RunTransition& row = *transition_from(RunState::awaiting_return);
  KBIX_TRY(store_.advance(run.id, row.from, row.to, facts));
  KBIX_TRY(record(run.id, std::string(row.audit_event), facts));
  maybe_kill_after(RunState::return_downloaded);
  return ok();
}

Status Exchange::quarantine_return(RemoteStore& remote, const RemoteEntry& entry,
                                   std::string_view why) {
  const fs::path dir = config_.daemon.state_dir / "quarantine";
  std::error_code error;
  fs::create_directories(dir, error);
  fs::permissions(dir, fs::perms::owner_all, error);
  const fs::path local = dir / entry.name;
  if (!fs::exists(local)) {
    auto got = remote.download(config_.sftp.return_dir, entry.name, local, {});
    if (!got) return fail(std::move(got).error());
  }
  KBIX_TRY(remote.remove(config_.sftp.return_dir, entry.name));
  return record("", "return.quarantined",
                {{"remote_file", config_.sftp.return_dir + "/" + entry.name},
                 {"local_file", local.string()},
                 {"bytes", entry.size},
                 {"reason", std::string(why)}});
}

Result<std::unique_ptr<RemoteStore>> Exchange::connect_remote(const std::string& run_id) {
  const SftpSettings settings = make_sftp_settings(config_.sftp);
  RetryPolicy policy;
  policy.max_attempts = 3;
  auto client = with_retry(policy, [&](int) { return connect_(); });
  if (!client) {
    (void)record(run_id, "sftp.connect_failed",
                 {{"host", settings.host}, {"port", settings.port}, {"code", client.error().code}});
    return client;
  }
  auto known_hosts_sha = sha256_file_hex(settings.known_hosts_file);
  KBIX_TRY(record(run_id, "sftp.connect",
                  {{"host", settings.host},
                   {"port", settings.port},
                   {"user", settings.user},
                   {"cipher", (*client)->cipher()},
                   {"host_key", (*client)->host_key_fingerprint()},
                   {"known_hosts_sha256", known_hosts_sha ? *known_hosts_sha : ""}}));
  return client;
}

Result<nlohmann::json> Exchange::remove_remote_files(
    RemoteStore& remote, const std::string& run_id,
    const std::vector<std::pair<std::string, std::string>>& files) {
  nlohmann::json removed = nlohmann::json::array();
  for (const auto& [remote_dir, name] : files) {
    auto gone = remote.remove(remote_dir, name);
    if (!gone && gone.error().code != "sftp.not_found") return fail(std::move(gone).error());
    if (gone) {
      removed.push_back(remote_dir + "/" + name);
      KBIX_TRY(record(run_id, "remote.delete", {{"remote_file", remote_dir + "/" + name}}));
    }
  }
  return removed;
}

}  // namespace kbix
