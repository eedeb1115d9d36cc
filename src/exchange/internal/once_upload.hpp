// The once-only upload of a run's file to a remote store (inv. 8), shared by the round trip's
// upload step (exchange_steps.cpp) and an export's SFTP drop to a municipality
// (export_delivery.cpp); internal to the exchange module.
//
// The file goes under a temporary name and is renamed when complete, never over a final name
// (RemoteStore's contract). Just before the rename the temporary name is committed in the run's
// facts, so that after a crash the next attempt tells a file never renamed (its temporary file is
// still there: removed, sent again) from one renamed and then taken by the other side (neither
// name is there: not sent again). A caller runs the three pieces in order, with checks of its own
// in between (the round trip also looks for a return already waiting).
//
// Does NOT guarantee: exactly one upload when the other side removed our final file before the
// temporary name was recorded (nothing on the server to compare with then).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "kbix/core/result.hpp"
#include "kbix/exchange/remote_store.hpp"
#include "kbix/runs/run_store.hpp"

namespace kbix {

struct OnceUpload {
  std::filesystem::path local_file;
  std::string remote_dir;
  std::string remote_name;
  std::uint64_t size = 0;          // the bytes a final name of ours holds
  std::string renaming_fact;       // the run fact that holds the temporary name during the rename
  std::string renamed_kill_point;  // test hook right after the rename (maybe_kill_at)
};

// The final name as an earlier attempt may have left it: the entry when it is there with our
// size, nullopt when it is not there, run.remote_conflict when it holds another size. A failed
// look (a lost connection) is returned as it is: it proves nothing either way.
Result<std::optional<RemoteEntry>> find_final_upload(RemoteStore& remote, const OnceUpload& upload);

// The temporary name an interrupted attempt recorded: returned when it is gone (the file was
// renamed before the crash and the other side took it); a temporary file still there is removed
// and the record cleared (nullopt: upload again). Nothing recorded: nullopt.
Result<std::optional<std::string>> settle_interrupted_upload(RemoteStore& remote, RunStore& store,
                                                             const RunRecord& run,
                                                             const OnceUpload& upload);

// Uploads, recording the temporary name in the run's facts before the rename; returns the bytes
// written. On a passing failure the record is kept (the rename itself may have been cut: the next
// attempt looks); on any other the upload removed its temporary file and the record is cleared.
Result<std::uint64_t> upload_recording_rename(RemoteStore& remote, RunStore& store,
                                              const std::string& run_id, const OnceUpload& upload,
                                              const TransferProgress& progress);

}  // namespace kbix
