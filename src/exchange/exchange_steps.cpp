// The steps of a round trip (see kbix/exchange.hpp): each returns the state it reached and the
// facts to commit with it; exchange.cpp commits, audits and handles failure. The steps that take
// the partner's return (verify, merge) are in return_steps.cpp.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "internal/exchange_internal.hpp"
#include "internal/once_upload.hpp"
#include "kbix/core/buffered_file.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/file_safety.hpp"
#include "kbix/core/input_file.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/untrusted_text.hpp"
#include "kbix/domain/extract_export.hpp"
#include "kbix/envelope/envelope.hpp"
#include "kbix/envelope/sealed_bytes.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/exchange/exchange_keys.hpp"
#include "kbix/reports/run_reports.hpp"
#include "kbix/runs/run_id.hpp"
#include "kbix/sftp/retry.hpp"
#include "kbix/sftp/sftp.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

Result<SealReport> seal_file(const SealerConfig& config, int plaintext_fd,
                             const std::string& plaintext_name, const fs::path& sealed) {
  auto sealer = Sealer::create(config);
  if (!sealer) return fail(std::move(sealer).error());
  return sealer->seal(plaintext_fd, plaintext_name, sealed);
}

// A descriptor of its own (its own offset) on the very file open at `fd` (the same inode,
// whatever its name now points to), or -1 when /proc does not give one.
int reopen_same_file(int fd) {
  const int own = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(),
                         O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat opened {
  }, again{};
  if (own >= 0 && ::fstat(fd, &opened) == 0 && ::fstat(own, &again) == 0 &&
      S_ISREG(again.st_mode) && opened.st_dev == again.st_dev && opened.st_ino == again.st_ino) {
    const int flags = ::fcntl(own, F_GETFL);
    if (flags >= 0 && ::fcntl(own, F_SETFL, flags & ~O_NONBLOCK) == 0) return own;
  }
  if (own >= 0) ::close(own);
  return -1;
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

nlohmann::json export_facts(const ExportReport& report) {
  return {{"rows", report.rows},
          {"exported", report.exported},
          {"invalid_insz", report.invalid_insz},
          {"duplicate_insz", report.duplicate_insz},
          {"bis_insz", report.bis_insz},
          {"calendar_warnings", report.calendar_warnings}};
}

}  // namespace

// Opens a sealed file of this run into anonymous memory (kbix/envelope/sealed_bytes.hpp): its
// plaintext is never on disk, and a killed process leaves none behind.
Result<OpenedInMemory> open_sealed_in_memory(const OpenerConfig& config, const fs::path& sealed) {
  auto opener = Opener::create(config);
  if (!opener) return fail(std::move(opener).error());
  return open_into_memory(*opener, sealed);
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

namespace {

std::string errno_message() {
  return std::strerror(errno);
}

// Gives the pending output its published name and mode without copying it: the file is made
// readable by the output folder's group (0640, as AtomicFile makes a published file), made
// durable, linked under `to` (never replacing a file there) and its pending name removed.
Status publish_pending(const fs::path& pending, const fs::path& to) {
  const int fd = ::open(pending.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail("io.read", "cannot open " + pending.string() + ": " + errno_message());
  const bool durable = ::fchmod(fd, 0640) == 0 && ::fsync(fd) == 0;
  const std::string why = durable ? std::string() : errno_message();
  ::close(fd);
  if (!durable) return fail("io.write", "cannot publish " + pending.string() + ": " + why);
  // link() fails with EEXIST instead of replacing: the final name is never overwritten.
  if (::link(pending.c_str(), to.c_str()) != 0) {
    const bool exists = errno == EEXIST;
    return fail(exists ? ErrorCode("io.exists") : ErrorCode("io.rename"),
                to.string() + (exists ? ": already exists, not replaced"
                                      : ": cannot publish: " + errno_message()));
  }
  ::unlink(pending.c_str());
  return sync_directory(to.parent_path());
}

}  // namespace

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
  // The extract is read twice, at once: the export checks it in pieces (two threads) while the
  // sealing reads it through a descriptor of its own on a third; the sealing also gives the
  // SHA-256 of the extract (as signed) and of the sealed snapshot (as written). A failed check
  // wins, and then the snapshot just sealed is removed (none is left, as when the sealing came
  // after the check). Without /proc, the sealing comes after the check.
  const fs::path snapshot = dir / "snapshot.csv.p7m";
  const SealerConfig snapshot_config = snapshot_sealer_config(config_);
  const std::string extract_label = input->path().string();
  std::optional<Result<SealReport>> sealed;
  const int own_fd = reopen_same_file(input->fd());
  std::jthread sealing;
  if (own_fd >= 0) {
    sealing = std::jthread([&, fields = current_log_fields()] {
      const ScopedLogFields same_fields(fields);
      try {  // a daemon boundary (invariant 16): an exception fails the step, not the process
        sealed.emplace(seal_file(snapshot_config, own_fd, extract_label, snapshot));
      } catch (const std::exception& error) {
        sealed.emplace(fail("run.internal_error", sanitize_untrusted_text(error.what())));
      }
      ::close(own_fd);
    });
  }
  // The outbound list (INSZ only) is made in memory and sealed from there: never on disk.
  std::ostringstream list_plain;
  auto checked = [&]() -> Result<ExportReport> {
    auto exported =
        export_outbound(input->fd(), input->stream(), extract_name, config_.protocol, list_plain);
    if (input->read_failed()) return fail("io.read", "cannot read " + extract.string());
    if (!exported) return fail(std::move(exported).error());
    if (exported->exported == 0) {
      return fail("run.empty_extract", extract_name + ": no valid INSZ to send");
    }
    return exported;
  }();
  if (sealing.joinable()) sealing.join();
  if (!checked) {
    if (sealed && *sealed) {
      std::error_code ignored;
      fs::remove(snapshot, ignored);
    }
    return fail(std::move(checked).error());
  }
  const ExportReport& report = *checked;
  if (!sealed) sealed.emplace(seal_file(snapshot_config, input->fd(), extract_label, snapshot));
  if (!*sealed) return fail(std::move(*sealed).error());
  const SealReport& snapshot_sealed = **sealed;
  std::string extract_sha = snapshot_sealed.plaintext_sha256;
  if (extract_sha.empty()) {  // a signer that does not digest with SHA-256
    auto computed = input->sha256_hex();
    if (!computed) return fail(std::move(computed).error());
    extract_sha = std::move(*computed);
  }
  const fs::path list = dir / "outbound-list.csv.p7m";
  auto list_sealer = Sealer::create(snapshot_sealer_config(config_));
  if (!list_sealer) return fail(std::move(list_sealer).error());
  auto list_sealed = [&] {
    const std::string text = std::move(list_plain).str();
    return seal_bytes(*list_sealer, std::as_bytes(std::span(text.data(), text.size())),
                      "outbound.csv", list);
  }();
  if (!list_sealed) return fail(std::move(list_sealed).error());
  return StepOutcome{RunState::extract_sealed,
                     {{"extract_sha256", extract_sha},
                      {"extract_bytes", snapshot_sealed.plaintext_bytes},
                      {"snapshot_sha256", snapshot_sealed.sealed_sha256},
                      {"snapshot_bytes", snapshot_sealed.sealed_bytes},
                      {"outbound_list_sha256", list_sealed->sealed_sha256},
                      {"export", export_facts(report)}},
                     "run.extract_sealed"};
}

// extract_sealed -> outbound_sealed: INSZ-only outbound file (inv. 1) sealed to VDAB and to us.
// The list made when the extract was checked is opened; a run sealed by an earlier version
// (no list) exports it from the snapshot as before.
Result<Exchange::StepOutcome> Exchange::seal_outbound(const RunRecord& run) {
  KBIX_TRY(remove_sealed_extract(run));
  const fs::path dir = run_directory(run.id);
  const fs::path list = dir / "outbound-list.csv.p7m";
  std::uint64_t rows = 0;
  std::error_code missing;
  std::optional<OpenedInMemory> opened_list;
  std::string outbound_plain;  // an earlier version's run: exported from the snapshot here
  if (run.facts.contains("outbound_list_sha256") && fs::exists(list, missing)) {
    auto opened = open_sealed_in_memory(own_file_opener_config(config_), list);
    if (!opened) return fail(std::move(opened).error());
    opened_list.emplace(std::move(*opened));
    rows = run.facts.value("export", nlohmann::json::object()).value("exported", std::uint64_t{0});
  } else {
    auto snapshot =
        open_sealed_in_memory(own_file_opener_config(config_), dir / "snapshot.csv.p7m");
    if (!snapshot) return fail(std::move(snapshot).error());
    auto in = snapshot->input("snapshot.csv");
    if (!in) return fail(std::move(in).error());
    std::ostringstream out;
    auto exported = export_outbound(in->stream(), "snapshot.csv", config_.protocol, out);
    if (!exported) return fail(std::move(exported).error());
    outbound_plain = std::move(out).str();
    rows = exported->exported;
  }
  auto sealer_config = outbound_sealer_config(config_);
  if (!sealer_config) return fail(std::move(sealer_config).error());
  auto sealer = Sealer::create(*sealer_config);
  if (!sealer) return fail(std::move(sealer).error());
  const fs::path outbound = dir / "outbound.csv.p7m";
  auto sealed =
      opened_list
          ? sealer->seal(opened_list->fd(), "outbound.csv", outbound)
          : seal_bytes(*sealer,
                       std::as_bytes(std::span(outbound_plain.data(), outbound_plain.size())),
                       "outbound.csv", outbound);
  if (!sealed) return fail(std::move(sealed).error());
  return StepOutcome{RunState::outbound_sealed,
                     {{"outbound_sha256", sealed->sealed_sha256},
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

// merged -> published: atomic, once (inv. 8): a file already published is compared by SHA-256.
// The merge wrote the output where it is published (pending_output): it is named, not copied.
Result<Exchange::StepOutcome> Exchange::publish_output(const RunRecord& run) {
  const fs::path dir = run_directory(run.id);
  const std::string expected_sha = run.facts.value("output_sha256", std::string{});
  const fs::path output = published_output(run.id);
  const fs::path pending = pending_output(run.id);
  const fs::path legacy = dir / "work" / "output.csv";  // merged by an earlier version
  std::string how = "published";
  std::error_code error;
  if (fs::exists(fs::symlink_status(output, error))) {
    auto sha = sha256_file_hex(output);
    if (!sha) return fail(std::move(sha).error());
    if (*sha != expected_sha) {
      return fail("run.publish_conflict",
                  output.string() + " exists with other content; it is left untouched");
    }
    fs::remove(pending, error);  // a crash between the link and the unlink
    how = "found published (earlier attempt)";
  } else {
    if (!fs::exists(fs::symlink_status(pending, error)) &&
        fs::exists(fs::symlink_status(legacy, error))) {
      KBIX_TRY(publish_copy(legacy, output));
    } else {
      KBIX_TRY(publish_pending(pending, output));
    }
    maybe_kill_at("output_published");  // manifest not yet
  }
  if (!fs::exists(fs::symlink_status(published_manifest(run.id), error))) {
    KBIX_TRY(publish_copy(dir / "manifest.json", published_manifest(run.id)));
  }
  for (const auto& name : report_file_names()) {  // counts only (docs/privacy.md)
    const fs::path to =
        config_.daemon.output_dir / published_report_name(config_.protocol.id, run.id, name);
    if (fs::exists(dir / name) && !fs::exists(to)) KBIX_TRY(publish_copy(dir / name, to));
  }
  return StepOutcome{RunState::published,
                     {{"published_output", output.string()},
                      {"published_manifest", published_manifest(run.id).string()},
                      {"publish", how}},
                     "run.published"};
}

// published -> cleaned: remote files deleted (inv. 10); the sealed files stay as evidence until
// the retention purge.
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
  const SftpSettings& settings = config_.sftp.connection;
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
