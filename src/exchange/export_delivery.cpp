// The SFTP drop of a municipal list ([export] delivery = "sftp"): kbix itself moves a placed run
// on by uploading its protected file into the municipality's drop directory ([sftp]
// outbound_dir), through the same RemoteStore, connection retries and once-only upload as the
// round trip's upload step (internal/once_upload.hpp). The password of an xlsx or zip list never
// goes with it: it is released only by `kbix export password` (the protocol wants the key by
// another channel). The delivered -> done step then removes the outbox copy as for any export.
#include <spdlog/spdlog.h>

#include "internal/once_upload.hpp"
#include "kbix/core/digest.hpp"
#include "kbix/core/logging.hpp"
#include "kbix/core/utc_time.hpp"
#include "kbix/exchange/exchange.hpp"
#include "kbix/sftp/retry.hpp"

namespace kbix {

namespace fs = std::filesystem;

namespace {

// "user@host:port/dir": where the lists of this exchange are dropped (for messages and status).
std::string drop_target(const SftpConfig& sftp) {
  return sftp.connection.user + "@" + sftp.connection.host + ":" +
         std::to_string(sftp.connection.port) + " " + sftp.outbound_dir;
}

}  // namespace

// placed -> delivered: once (inv. 8). A list already there under its final name with our size is
// our own earlier upload; a recorded temporary name that is gone with no final name means the
// file was renamed before a crash and the municipality took it away (as Genk's protocol asks). In
// neither case is it sent again.
Result<Exchange::StepOutcome> Exchange::deliver_list(const RunRecord& run) {
  const std::string name = run.facts.value("list_file", list_file_name(run.id));
  const fs::path list = run_directory(run.id) / name;
  const std::string target = drop_target(config_.sftp);
  // A failure that is not passing ends the run: say where it went wrong and what to do.
  const auto refused = [&](Error error) -> Result<StepOutcome> {
    if (!is_retryable_failure(error)) {
      error.message = "the SFTP drop of " + name + " to " + target +
                      " failed and is not retried: " + error.message +
                      " (fix it with the municipality, then start a new run)";
    }
    return fail(std::move(error));
  };
  std::error_code size_error;
  const std::uint64_t size = fs::file_size(list, size_error);
  if (size_error) return refused(Error("io.read", "cannot read the list " + list.string()));
  auto sha = sha256_file_hex(list);
  if (!sha) return refused(std::move(sha).error());
  const OnceUpload once{list, config_.sftp.outbound_dir, name,
                        size, "delivery_renaming",       "delivery_renamed"};
  auto client = connect_remote(run.id);
  if (!client) return refused(std::move(client).error());
  RemoteStore& remote = **client;
  nlohmann::json facts = {{"channel", "sftp"},
                          {"delivered_by", "kbix"},
                          {"delivery_remote_dir", once.remote_dir},
                          {"delivery_remote_name", once.remote_name},
                          {"delivery_bytes", size},
                          {"delivery_sha256", *sha},
                          {"delivery_cipher", remote.cipher()},
                          {"delivery_host_key", remote.host_key_fingerprint()}};
  auto existing = find_final_upload(remote, once);
  if (!existing) return refused(std::move(existing).error());
  if (*existing) {
    facts["delivery_how"] = "found on the server (earlier attempt)";
    return StepOutcome{RunState::delivered, facts, "export.delivered"};
  }
  auto taken = settle_interrupted_upload(remote, store_, run, once);
  if (!taken) return refused(std::move(taken).error());
  if (*taken) {
    facts["delivery_how"] =
        "renamed before a crash, then taken by the municipality (earlier attempt)";
    facts["delivery_temporary_name"] = **taken;
    return StepOutcome{RunState::delivered, facts, "export.delivered"};
  }
  auto sent =
      upload_recording_rename(remote, store_, run.id, once, transfer_progress(run.id, "delivery"));
  if (!sent) return refused(std::move(sent).error());
  facts["delivery_how"] = "uploaded";
  facts["delivery_bytes"] = *sent;
  return StepOutcome{RunState::delivered, facts, "export.delivered"};
}

Error Exchange::keep_placed_for_next_attempt(const RunRecord& run, const Error& error) {
  const int attempt = run.facts.value("delivery_attempts", 0) + 1;
  const std::string target = drop_target(config_.sftp);
  const ScopedLogFields fields({run.id, "export.delivery_failed", error.code});
  spdlog::warn("run {}: the SFTP drop to {} failed (attempt {}): {}; the next tick tries again",
               run.id, target, attempt, error.describe());
  (void)store_.set_progress(run.id, RunProgress{});
  (void)store_.merge_facts(run.id, {{"delivery_attempts", attempt},
                                    {"delivery_last_error", error.code},
                                    {"delivery_last_attempt", utc_timestamp(Clock::now())}});
  (void)record(run.id, "export.delivery_failed",
               {{"code", error.code},
                {"message", error.message},
                {"attempt", attempt},
                {"remote", target},
                {"retryable", true}});
  return Error("export.delivery_failed", "run " + run.id + ": the list could not be dropped on " +
                                             target + " (attempt " + std::to_string(attempt) +
                                             "): " + error.describe() +
                                             "; it stays placed and kbix tries again on the "
                                             "next tick");
}

}  // namespace kbix
