// The steps of a round trip (see kbix/exchange.hpp): each returns the state it reached and the
// facts to commit with it; exchange.cpp commits, audits and handles failure.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>

#include "internal/exchange_internal.hpp"
#include "internal/once_upload.hpp"
#include "kbix/core/buffered_file.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/domain/manifest.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/domain/pseudonym.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/reports/run_reports.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/sftp/retry.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

namespace fs = std::filesystem;

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

Result<SealReport> seal_file(const SealerConfig& config, InputFile& plaintext,
                             const fs::path& sealed) {
  auto sealer = Sealer::create(config);
  if (!sealer) return fail(std::move(sealer).error());
  return sealer->seal(plaintext.fd(), plaintext.path().string(), sealed);
}

// The operator's extract, opened once (issue 13 item 3); a name that is gone is
// run.extract_missing.
Result<InputFile> open_extract(const fs::path& extract) {
  std::error_code error;
  if (extract.empty() || !fs::exists(fs::symlink_status(extract, error))) {
    return fail("run.extract_missing",
                "the KBI extract " + extract.string() + " is no longer in the inbox");
  }
  return InputFile::open(extract, "run.extract_not_regular");
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

std::int64_t epoch_of_utc(const std::string& timestamp) {
  std::tm utc{};
  if (std::sscanf(timestamp.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec) != 6) {
    return 0;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&utc));
}

// Invariant 13: a return is opened only in the partner's profile and with a signingTime after
// this run's upload began (older runs without that fact: after the run was created) and not
// after now, both give or take the configured clock skew.
OpenerConfig return_opener_for_run(const Config& config, const RunRecord& run) {
  using std::chrono::system_clock;
  OpenerConfig opener = return_opener_config(config);
  std::int64_t since = run.facts.value("upload_started_epoch", std::int64_t{0});
  if (since == 0) since = epoch_of_utc(run.created_at_utc);
  const auto skew = config.partner.signing_time_skew;
  opener.signing_window = OpenerConfig::SigningWindow{
      system_clock::time_point(std::chrono::seconds(since)) - skew, system_clock::now() + skew};
  return opener;
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

// The last gate before publication (invariant 4), read on two threads (file_pieces.hpp);
// `observer` sees every record it passes, in order.
Status scan_merged_output(const fs::path& output, OutputObserver* observer = nullptr) {
  auto file = InputFile::open(output, "io.read");
  if (!file) return fail(std::move(file).error());
  auto scanned = observer == nullptr
                     ? scan_output(file->fd(), file->stream(), "output.csv")
                     : scan_output(file->fd(), file->stream(), "output.csv", *observer);
  if (!scanned) return fail(std::move(scanned).error());
  return ok();
}

}  // namespace

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

// planned -> extract_sealed: the extract is checked (export rules) and sealed to our own
// certificate; from then on the run never needs the operator's plaintext file again. The one
// reading that checks it also makes the outbound list, sealed to our own certificate until the
// next step seals it to the partner, so the snapshot is not opened and read again for it.
Result<Exchange::StepOutcome> Exchange::seal_extract(const RunRecord& run) {
  const fs::path extract = run.facts.value("extract_file", std::string{});
  auto input = open_extract(extract);
  if (!input) return fail(std::move(input).error());
  const std::string extract_name = extract.filename().string();
  const fs::path dir = run_directory(run.id);
  const fs::path list_plain = dir / "work" / "outbound.csv";
  ExportReport report;
  {
    BufferedOutput list(list_plain);
    if (!list.good()) return fail("io.write", "cannot prepare " + dir.string());
    auto checked = export_outbound(input->fd(), input->stream(), extract_name, config_.protocol,
                                   list.stream());
    if (input->read_failed()) return fail("io.read", "cannot read " + extract.string());
    if (!checked) return fail(std::move(checked).error());
    KBIX_TRY(list.close());
    report = *checked;
  }
  if (report.exported == 0) {
    return fail("run.empty_extract", extract_name + ": no valid INSZ to send");
  }
  auto extract_sha = input->sha256_hex();
  if (!extract_sha) return fail(std::move(extract_sha).error());
  const fs::path snapshot = dir / "snapshot.csv.p7m";
  auto sealed = seal_file(snapshot_sealer_config(config_), *input, snapshot);
  if (!sealed) return fail(std::move(sealed).error());
  auto snapshot_sha = sha256_file_hex(snapshot);
  if (!snapshot_sha) return fail(std::move(snapshot_sha).error());
  const fs::path list = dir / "outbound-list.csv.p7m";
  auto list_sealed = seal_file(snapshot_sealer_config(config_), list_plain, list);
  if (!list_sealed) return fail(std::move(list_sealed).error());
  auto list_sha = sha256_file_hex(list);
  if (!list_sha) return fail(std::move(list_sha).error());
  return StepOutcome{RunState::extract_sealed,
                     {{"extract_sha256", *extract_sha},
                      {"extract_bytes", sealed->plaintext_bytes},
                      {"snapshot_sha256", *snapshot_sha},
                      {"snapshot_bytes", sealed->sealed_bytes},
                      {"outbound_list_sha256", *list_sha},
                      {"export", export_facts(report)}},
                     "run.extract_sealed"};
}

// extract_sealed -> outbound_sealed: INSZ-only outbound file (inv. 1) sealed to VDAB and to us.
// The list made when the extract was checked is opened; a run sealed by an earlier version
// (no list) exports it from the snapshot as before.
Result<Exchange::StepOutcome> Exchange::seal_outbound(const RunRecord& run) {
  KBIX_TRY(remove_sealed_extract(run));
  const fs::path dir = run_directory(run.id);
  const fs::path outbound_plain = dir / "work" / "outbound.csv";
  const fs::path list = dir / "outbound-list.csv.p7m";
  std::uint64_t rows = 0;
  std::error_code missing;
  if (run.facts.contains("outbound_list_sha256") && fs::exists(list, missing)) {
    KBIX_TRY(open_sealed(own_file_opener_config(config_), list, outbound_plain));
    rows = run.facts.value("export", nlohmann::json::object()).value("exported", std::uint64_t{0});
  } else {
    const fs::path snapshot_plain = dir / "work" / "snapshot.csv";
    KBIX_TRY(
        open_sealed(own_file_opener_config(config_), dir / "snapshot.csv.p7m", snapshot_plain));
    BufferedInput in(snapshot_plain);
    BufferedOutput out(outbound_plain);
    if (!in.good() || !out.good()) return fail("io.write", "cannot prepare " + dir.string());
    auto exported = export_outbound(in.stream(), "snapshot.csv", config_.protocol, out.stream());
    if (!exported) return fail(std::move(exported).error());
    KBIX_TRY(out.close());
    rows = exported->exported;
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
                      {"outbound_rows", rows},
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
  const auto& sftp = config_.sftp;
  const OnceUpload once{run_directory(run.id) / "outbound.csv.p7m",
                        sftp.outbound_dir,
                        outbound_remote_name(config_.protocol.id, run.id),
                        run.facts.value("outbound_bytes", std::uint64_t{0}),
                        "upload_renaming",
                        "upload_renamed"};
  auto client = connect_remote(run.id);
  if (!client) return fail(std::move(client).error());
  RemoteStore& remote = **client;
  nlohmann::json facts = {{"outbound_remote_name", once.remote_name},
                          {"outbound_remote_dir", sftp.outbound_dir}};
  auto existing = find_final_upload(remote, once);
  if (!existing) return fail(std::move(existing).error());
  if (*existing) {
    facts["upload"] = "found on the server (earlier attempt)";
    facts["outbound_remote_bytes"] = (*existing)->size;
    return StepOutcome{RunState::uploaded, facts, "run.upload_confirmed"};
  }
  auto returned = remote.stat(sftp.return_dir, return_remote_name(config_.protocol.id, run.id));
  if (!returned && returned.error().code != "sftp.not_found") return fail(returned.error());
  if (returned) {
    facts["upload"] = "return already present (earlier attempt)";
    return StepOutcome{RunState::uploaded, facts, "run.upload_confirmed"};
  }
  auto taken = settle_interrupted_upload(remote, store_, run, once);
  if (!taken) return fail(std::move(taken).error());
  if (*taken) {
    facts["upload"] = "renamed before a crash, then taken by the partner (earlier attempt)";
    facts["upload_temporary_name"] = **taken;
    return StepOutcome{RunState::uploaded, facts, "run.upload_confirmed"};
  }
  if (!run.facts.contains("upload_started_epoch")) {  // the return must be signed after this
    KBIX_TRY(store_.merge_facts(
        run.id, {{"upload_started_epoch",
                  std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch())
                      .count()}}));
  }
  auto sent =
      upload_recording_rename(remote, store_, run.id, once, transfer_progress(run.id, "upload"));
  if (!sent) return fail(std::move(sent).error());
  facts["upload"] = "uploaded";
  facts["outbound_remote_bytes"] = *sent;
  return StepOutcome{RunState::uploaded, facts, "run.upload"};
}

// return_downloaded -> return_verified: tag and pinned signature (inv. 3), bound to this run
// (inv. 13: profile, signingTime, never accepted before), columns checked by the merge;
// plaintext exists only in work/ during this step.
Result<Exchange::StepOutcome> Exchange::verify_return(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  const fs::path sealed = dir / "return.csv.p7m";
  auto opened = open_sealed(return_opener_for_run(config_, run), sealed, dir / "work/return.csv");
  if (!opened) return fail(std::move(opened).error());
  auto sha = sha256_file_hex(sealed);
  if (!sha) return fail(std::move(sha).error());
  auto earlier = store_.remember_accepted_return(run.id, *sha);
  if (!earlier) return fail(std::move(earlier).error());
  if (*earlier) {
    return fail("envelope.replayed", "return.csv.p7m (SHA-256 " + *sha +
                                         ") was already accepted by run " + **earlier +
                                         ": a replayed return, refused");
  }
  return StepOutcome{
      RunState::return_verified,
      {{"return_signer_sha256", opened->signer_fingerprint_sha256},
       {"return_decryption_sha256", opened->decryption_fingerprint_sha256},
       {"return_plaintext_bytes", opened->plaintext_bytes},
       {"return_profile", to_string(opened->profile)},
       {"return_signed_at",
        opened->signing_time ? utc_timestamp(*opened->signing_time) : std::string()}},
      "run.return_verified"};
}

// return_verified -> merged: join, pseudonymise, scan (inv. 4) and describe in a manifest; the
// output waits in work/output.csv (the one file kept between steps) until it is published.
Result<Exchange::StepOutcome> Exchange::merge_return(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  const fs::path snapshot_plain = dir / "work/snapshot.csv";
  const fs::path return_plain = dir / "work/return.csv";
  const fs::path partial = dir / "work/output.csv";
  KBIX_TRY(open_sealed(own_file_opener_config(config_), dir / "snapshot.csv.p7m", snapshot_plain));
  KBIX_TRY(open_sealed(return_opener_for_run(config_, run), dir / "return.csv.p7m", return_plain));
  maybe_kill_at("merge_opened");  // test hook: plaintext of both files is in work/ now
  // The article 7 quality report is counted while the merge reads both files. A merge that fails
  // (a return it refuses, too) is reported from a reading of its own, and that reading's error,
  // when it has one, comes first, as when the report was made before the merge.
  const auto as_of = std::chrono::floor<std::chrono::days>(Clock::now());
  QualityTally quality_tally(config_.protocol, as_of);
  std::optional<PseudonymKey> key;
  auto merged = [&]() -> Result<MergeReport> {
    if (config_.protocol.pseudonym == PseudonymMode::hmac_sha256) {
      if (!config_.keys.pseudonym_key_file) {
        return fail("pseudonym.key_missing",
                    "the protocol asks for hmac-sha256 pseudonyms but keys.pseudonym_key_file is "
                    "not set in " +
                        config_.file.string());
      }
      auto loaded = PseudonymKey::load(*config_.keys.pseudonym_key_file);
      if (!loaded) return fail(std::move(loaded).error());
      key.emplace(std::move(*loaded));
    }
    progress(run.id, "merge", 0, run.facts.value("return_plaintext_bytes", std::uint64_t{0}));
    auto returned = InputFile::open(return_plain, "io.read");
    auto snapshot = InputFile::open(snapshot_plain, "io.read");
    BufferedOutput out(partial);
    if (!returned || !snapshot || !out.good()) {
      return fail("io.write", "cannot prepare the merge in " + dir.string());
    }
    const std::string return_name = return_remote_name(config_.protocol.id, run.id);
    auto report = merge_and_pseudonymise(
        returned->fd(), returned->stream(), return_name, snapshot->fd(), snapshot->stream(),
        "snapshot.csv", config_.protocol, key ? &*key : nullptr, out.stream(), {}, &quality_tally);
    if (!report) return fail(std::move(report).error());
    KBIX_TRY(out.close());
    return report;
  }();
  if (!merged) {
    auto quality =
        write_quality_reports(dir, run.id, snapshot_plain, return_plain, config_.protocol, as_of);
    if (!quality) return fail(std::move(quality).error());
    KBIX_TRY(record(run.id, "report.quality", *quality));
    return fail(std::move(merged).error());
  }
  const MergeReport report = *merged;
  auto quality = write_quality_reports(dir, run.id, quality_tally.report(report));
  if (!quality) return fail(std::move(quality).error());
  KBIX_TRY(record(run.id, "report.quality", *quality));
  // The output scan (invariant 4), which also counts the disclosure classes: one read for both.
  progress(run.id, "scan", 0, report.output_rows);
  DisclosureCounter disclosure_classes(config_.protocol);
  const bool counts_classes = !config_.protocol.disclosure.quasi_identifiers.empty();
  KBIX_TRY(scan_merged_output(partial, counts_classes ? &disclosure_classes : nullptr));
  auto disclosure =
      write_disclosure_report(dir, run.id, partial, config_.protocol, disclosure_classes);
  if (!disclosure) return fail(std::move(disclosure).error());
  if (*disclosure) {
    KBIX_TRY(record(run.id, "report.disclosure", (*disclosure)->audit_details));
    KBIX_TRY(refuse_if_blocked(**disclosure, dir));
    // Suppression rewrote the output: the scan reads the bytes that are published.
    if ((*disclosure)->report.rewrote_output()) KBIX_TRY(scan_merged_output(partial));
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
  std::error_code size_error;
  manifest.output_bytes = fs::file_size(partial, size_error);
  if (size_error) return fail("io.read", "cannot read the size of " + partial.string());
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
  describe_reports(*disclosure, dir, config_.protocol.id, run.id, manifest);
  KBIX_TRY(write_file_atomically(dir / "manifest.json", to_json(manifest), 0640));
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
  for (const auto& [from, to] : {std::pair{dir / "work" / "output.csv", published_output(run.id)},
                                 std::pair{dir / "manifest.json", published_manifest(run.id)}}) {
    std::error_code error;
    if (fs::exists(fs::symlink_status(to, error))) {
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
    if (from.filename() == "output.csv") maybe_kill_at("output_published");  // manifest not yet
  }
  for (const auto& name : report_file_names()) {  // counts only (docs/privacy.md)
    const fs::path to =
        config_.daemon.output_dir / published_report_name(config_.protocol.id, run.id, name);
    if (fs::exists(dir / name) && !fs::exists(to)) KBIX_TRY(publish_copy(dir / name, to));
  }
  return StepOutcome{RunState::published,
                     {{"published_output", published_output(run.id).string()},
                      {"published_manifest", published_manifest(run.id).string()},
                      {"publish", how}},
                     "run.published"};
}

// published -> cleaned: remote files deleted (inv. 10); the local copy of the output goes with
// work/ after the step; the sealed files stay as evidence until the retention purge.
Result<Exchange::StepOutcome> Exchange::clean_up(const RunRecord& run) {
  auto client = connect_remote(run.id);
  if (!client) return fail(std::move(client).error());
  RemoteStore& remote = **client;
  auto removed = remove_remote_files(
      remote, run.id,
      {{config_.sftp.outbound_dir, outbound_remote_name(config_.protocol.id, run.id)},
       {config_.sftp.return_dir, return_remote_name(config_.protocol.id, run.id)}});
  if (!removed) return fail(std::move(removed).error());
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
  // A hostile server cannot fill the disk: the cap is checked against the listing here and
  // against the opened file and every read in download(). Too large fails the run for good.
  const std::uint64_t cap =
      return_download_cap(config_.sftp, run.facts.value("outbound_bytes", std::uint64_t{0}));
  auto got = entry.size > cap ? Result<std::uint64_t>(fail(
                                    "sftp.too_large", config_.sftp.return_dir + "/" + entry.name +
                                                          ": " + std::to_string(entry.size) +
                                                          " bytes listed, more than the limit of " +
                                                          std::to_string(cap) + "; not downloaded"))
                              : remote.download(
                                    config_.sftp.return_dir, entry.name, local,
                                    [this, &run](std::uint64_t done, std::uint64_t total) {
                                      progress(run.id, "download", done, total);
                                    },
                                    cap);
  if (!got && got.error().code == "sftp.too_large") {
    (void)store_.fail(run.id, got.error().code, got.error().message, false);
    KBIX_TRY(record(run.id, "run.failed",
                    {{"in_state", to_string(RunState::awaiting_return)},
                     {"code", got.error().code},
                     {"message", got.error().message},
                     {"retryable", false}}));
    return ok();  // this run is over; other returns in the listing are still looked at
  }
  if (!got) return fail(std::move(got).error());
  auto sha = sha256_file_hex(local);
  if (!sha) return fail(std::move(sha).error());
  const nlohmann::json facts = {
      {"return_remote_name", entry.name}, {"return_bytes", *got}, {"return_sha256", *sha}};
  const RunTransition& row = *transition_from(RunState::awaiting_return);
  KBIX_TRY(commit_and_record(run.id, row.from, row.to, std::string(row.audit_event), facts));
  maybe_kill_after(RunState::return_downloaded);
  return ok();
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
