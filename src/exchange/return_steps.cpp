// The steps of a round trip that take the partner's return (see kbix/exchange.hpp): verify it,
// merge it with the snapshot. Both plaintexts live only in anonymous memory.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "internal/exchange_internal.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/hashed_output.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/domain/manifest.hpp"
#include "kbix/domain/merge.hpp"
#include "kbix/domain/output_scan.hpp"
#include "kbix/domain/pseudonym.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/envelope/sealed_bytes.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/reports/run_reports.hpp"
#include "kbix/runs/run_id.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

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

// The return verified by verify_return, kept in anonymous memory for the merge step that follows
// it in this process, so the return is decrypted once. After a restart (or for another run) the
// merge opens it again, with the same checks. The snapshot, opened for that merge while the return
// was downloaded and verified, when that succeeded.
struct Exchange::VerifiedReturn {
  std::string run_id;
  OpenedInMemory plaintext;
  std::optional<OpenedInMemory> snapshot;
};

// A run's snapshot opened into memory (decrypt and verify, every check) on a thread of its own, on
// the machine's other core, while the return is downloaded and verified. When it fails (or
// throws), nothing is said: the merge opens the snapshot itself, as before, and reports what it
// finds. Destroying it waits for the thread; what it opened is wiped with its memory file.
struct Exchange::SnapshotOpening {
  SnapshotOpening(std::string run, OpenerConfig config, fs::path sealed) : run_id(std::move(run)) {
    thread = std::jthread([this, config = std::move(config), sealed = std::move(sealed),
                           fields = current_log_fields()] {
      const ScopedLogFields same_fields(fields);  // its lines name the run and the step too
      try {
        auto opened_now = open_sealed_in_memory(config, sealed);
        if (opened_now) opened.emplace(std::move(*opened_now));
      } catch (const std::exception&) {
      }
    });
  }
  // The snapshot once opened, or nullopt.
  std::optional<OpenedInMemory> take() {
    if (thread.joinable()) thread.join();
    return std::exchange(opened, std::nullopt);
  }

  std::string run_id;
  std::optional<OpenedInMemory> opened;
  std::jthread thread;  // last: joined before the rest is destroyed
};

void Exchange::start_opening_snapshot(const std::string& run_id) {
  snapshot_opening_.reset();
  snapshot_opening_ = std::make_shared<SnapshotOpening>(run_id, own_file_opener_config(config_),
                                                        run_directory(run_id) / "snapshot.csv.p7m");
}

void Exchange::keep_snapshot_opening_for(const std::string& run_id) {
  if (snapshot_opening_ == nullptr || snapshot_opening_->run_id != run_id) return;
  auto found = store_.find(run_id);
  if (!found || !*found || (*found)->state != RunState::return_downloaded) {
    snapshot_opening_.reset();
  }
}

// return_downloaded -> return_verified: tag and pinned signature (inv. 3), bound to this run
// (inv. 13: profile, signingTime, never accepted before), columns checked by the merge;
// the plaintext exists only in anonymous memory (never on disk), kept for the merge step.
Result<Exchange::StepOutcome> Exchange::verify_return(const RunRecord& run) {
  verified_return_.reset();
  const fs::path dir = run_directory(run.id);
  const fs::path sealed = dir / "return.csv.p7m";
  // The snapshot the merge needs: opening since the download in this process, else from now.
  std::shared_ptr<SnapshotOpening> snapshot_opening = std::exchange(snapshot_opening_, nullptr);
  if (snapshot_opening == nullptr || snapshot_opening->run_id != run.id) {
    snapshot_opening.reset();
    start_opening_snapshot(run.id);
    snapshot_opening = std::exchange(snapshot_opening_, nullptr);
  }
  auto opened = open_sealed_in_memory(return_opener_for_run(config_, run), sealed);
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
  const OpenReport report = opened->report();
  verified_return_ = std::make_shared<VerifiedReturn>(
      VerifiedReturn{run.id, std::move(*opened), snapshot_opening->take()});
  return StepOutcome{RunState::return_verified,
                     {{"return_signer_sha256", report.signer_fingerprint_sha256},
                      {"return_decryption_sha256", report.decryption_fingerprint_sha256},
                      {"return_plaintext_bytes", report.plaintext_bytes},
                      {"return_profile", to_string(report.profile)},
                      {"return_signed_at",
                       report.signing_time ? utc_timestamp(*report.signing_time) : std::string()}},
                     "run.return_verified"};
}

// return_verified -> merged: join, pseudonymise, scan (inv. 4) and describe in a manifest. The
// output is written once, in the output folder under a hidden name private to kbix (0600:
// pending_output), and waits there until publication names it; a failed merge leaves none (the
// step's wipe removes it). The snapshot and the return are read from anonymous memory: no
// plaintext of either is on disk.
Result<Exchange::StepOutcome> Exchange::merge_return(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  const fs::path partial = pending_output(run.id);
  std::shared_ptr<VerifiedReturn> kept = std::exchange(verified_return_, nullptr);
  if (kept && kept->run_id != run.id) kept.reset();
  std::optional<OpenedInMemory> snapshot_plain;
  if (kept && kept->snapshot) snapshot_plain = std::exchange(kept->snapshot, std::nullopt);
  if (!snapshot_plain) {
    auto opened = open_sealed_in_memory(own_file_opener_config(config_), dir / "snapshot.csv.p7m");
    if (!opened) return fail(std::move(opened).error());
    snapshot_plain.emplace(std::move(*opened));
  }
  if (!kept) {
    auto opened =
        open_sealed_in_memory(return_opener_for_run(config_, run), dir / "return.csv.p7m");
    if (!opened) return fail(std::move(opened).error());
    kept = std::make_shared<VerifiedReturn>(VerifiedReturn{run.id, std::move(*opened), {}});
  }
  const OpenedInMemory& return_plain = kept->plaintext;
  maybe_kill_at("merge_opened");  // test hook: both plaintexts are open (in memory) now
  // The article 7 quality report is counted while the merge reads both files. A merge that fails
  // (a return it refuses, too) is reported from a reading of its own, and that reading's error,
  // when it has one, comes first, as when the report was made before the merge.
  const auto as_of = std::chrono::floor<std::chrono::days>(Clock::now());
  QualityTally quality_tally(config_.protocol, as_of);
  // The output scan (invariant 4), which also counts the disclosure classes, is made by the merge
  // on the bytes it writes (MergeOutputScan, merge.hpp) and their SHA-256 taken as they are
  // written (HashedOutput): the file is not read again for either.
  DisclosureCounter disclosure_classes(config_.protocol);
  const bool counts_classes = !config_.protocol.disclosure.quasi_identifiers.empty();
  MergeOutputScan output_scan;
  output_scan.observer = counts_classes ? &disclosure_classes : nullptr;
  std::optional<std::string> output_sha;
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
    auto returned = return_plain.input("return.csv");
    auto snapshot = snapshot_plain->input("snapshot.csv");
    if (!returned || !snapshot) {
      return fail("io.write", "cannot prepare the merge in " + dir.string());
    }
    std::error_code ignored;
    fs::remove(partial, ignored);  // a leftover of an interrupted merge: never written through
    HashedOutput out(partial, 0600);
    if (!out.good()) {
      return fail("io.write", "cannot create " + partial.string() +
                                  " (the output directory must exist and be writable by kbix)");
    }
    const std::string return_name = return_remote_name(config_.protocol.id, run.id);
    auto report = merge_and_pseudonymise(returned->fd(), returned->stream(), return_name,
                                         snapshot->fd(), snapshot->stream(), "snapshot.csv",
                                         config_.protocol, key ? &*key : nullptr, out.stream(), {},
                                         &quality_tally, &output_scan);
    if (!report) return fail(std::move(report).error());
    KBIX_TRY(out.close());
    output_sha = out.sha256_hex();
    maybe_kill_at("merge_written");  // test hook: the pending output is written, not committed
    return report;
  }();
  if (!merged) {
    auto quality = [&]() -> Result<nlohmann::json> {
      auto snapshot = snapshot_plain->input("snapshot.csv");
      auto returned = return_plain.input("return.csv");
      if (!snapshot || !returned) {
        return fail("io.read", "cannot read snapshot.csv or return.csv");
      }
      auto assessed = assess_quality(snapshot->stream(), "snapshot.csv", returned->stream(),
                                     "return.csv", config_.protocol, as_of);
      if (!assessed) return fail(std::move(assessed).error());
      return write_quality_reports(dir, run.id, std::move(*assessed));
    }();
    if (!quality) return fail(std::move(quality).error());
    KBIX_TRY(record(run.id, "report.quality", *quality));
    return fail(std::move(merged).error());
  }
  const MergeReport report = *merged;
  auto quality = write_quality_reports(dir, run.id, quality_tally.report(report));
  if (!quality) return fail(std::move(quality).error());
  KBIX_TRY(record(run.id, "report.quality", *quality));
  progress(run.id, "scan", 0, report.output_rows);
  // The merge scanned exactly the bytes `out` wrote to the file, in the pieces and with the reader,
  // checks and limits of scan_output reading it, so a reading of the file would see the same
  // records and find the same. When it could not say they passed (small or refused files, a
  // finding, an error), the file is read and scanned as before, and that names what it finds.
  if (!output_scan.passed) {
    KBIX_TRY(scan_merged_output(partial, counts_classes ? &disclosure_classes : nullptr));
  }
  auto disclosure =
      write_disclosure_report(dir, run.id, partial, config_.protocol, disclosure_classes);
  if (!disclosure) return fail(std::move(disclosure).error());
  if (*disclosure) {
    KBIX_TRY(record(run.id, "report.disclosure", (*disclosure)->audit_details));
    KBIX_TRY(refuse_if_blocked(**disclosure, dir));
    // Suppression rewrote the output: the scan reads the bytes that are published, and so does
    // their SHA-256.
    if ((*disclosure)->report.rewrote_output()) {
      KBIX_TRY(scan_merged_output(partial));
      output_sha.reset();
    }
  }
  KBIX_TRY(sync_file(partial));
  if (!output_sha) {
    auto rewritten_sha = sha256_file_hex(partial);
    if (!rewritten_sha) return fail(std::move(rewritten_sha).error());
    output_sha = std::move(*rewritten_sha);
  }

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

}  // namespace kbix
