// The once-only upload shared by the round trip and the SFTP drop (internal/once_upload.hpp).
#include "internal/once_upload.hpp"

#include "internal/exchange_internal.hpp"
#include "kbix/sftp/retry.hpp"

namespace kbix {

Result<std::optional<RemoteEntry>> find_final_upload(RemoteStore& remote,
                                                     const OnceUpload& upload) {
  // Only "not there" lets an upload go ahead: a failed look (a lost connection) proves nothing,
  // and uploading after it could send a file the other side already took (inv. 8).
  auto existing = remote.stat(upload.remote_dir, upload.remote_name);
  if (!existing && existing.error().code == "sftp.not_found") {
    return std::optional<RemoteEntry>{};
  }
  if (!existing) return fail(std::move(existing).error());
  if (existing->size != upload.size) {
    return fail("run.remote_conflict", upload.remote_dir + "/" + upload.remote_name +
                                           " exists with " + std::to_string(existing->size) +
                                           " bytes, expected " + std::to_string(upload.size));
  }
  return std::optional<RemoteEntry>(*existing);
}

Result<std::optional<std::string>> settle_interrupted_upload(RemoteStore& remote, RunStore& store,
                                                             const RunRecord& run,
                                                             const OnceUpload& upload) {
  const auto pending = run.facts.find(upload.renaming_fact);
  if (pending == run.facts.end() || !pending->is_string()) return std::optional<std::string>{};
  const std::string temporary = pending->get<std::string>();
  auto left = remote.stat(upload.remote_dir, temporary);
  if (!left && left.error().code == "sftp.not_found") return std::optional<std::string>(temporary);
  if (!left) return fail(std::move(left).error());
  auto removed = remote.remove(upload.remote_dir, temporary);
  if (!removed && removed.error().code != "sftp.not_found") return fail(removed.error());
  KBIX_TRY(store.merge_facts(run.id, {{upload.renaming_fact, nullptr}}));
  return std::optional<std::string>{};
}

Result<std::uint64_t> upload_recording_rename(RemoteStore& remote, RunStore& store,
                                              const std::string& run_id, const OnceUpload& upload,
                                              const TransferProgress& progress) {
  auto sent =
      remote.upload(upload.local_file, upload.remote_dir, upload.remote_name, progress,
                    [&](const std::string& temporary) -> Status {
                      KBIX_TRY(store.merge_facts(run_id, {{upload.renaming_fact, temporary}}));
                      maybe_kill_at(upload.renaming_fact);
                      return ok();
                    });
  if (!sent) {
    // A lost connection may have cut the rename itself: keep the record, the next attempt looks.
    // Otherwise the upload removed its temporary file, and a kept record would mislead it.
    if (!is_transient(sent.error())) {
      (void)store.merge_facts(run_id, {{upload.renaming_fact, nullptr}});
    }
    return fail(std::move(sent).error());
  }
  maybe_kill_at(upload.renamed_kill_point);
  return sent;
}

}  // namespace kbix
