// Internal helpers of the exchange steps (not a public header).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/envelope/sealed_bytes.hpp"
#include "kbix/runs/run_state.hpp"

namespace kbix {
// Test-only crash hook (DESIGN.md inv. 8 tests): when KBIX_TEST_KILL_AFTER names a state, the
// process sends itself SIGKILL right after committing that state. Inside the upload step,
// "upload_renaming" kills it after the temporary name is committed and before the remote rename,
// "upload_renamed" after the rename and before `uploaded` is committed; "merge_opened" in the
// merge once both plaintexts are open (in anonymous memory).
void maybe_kill_after(RunState reached);
void maybe_kill_at(std::string_view point);

// Opens a sealed file of a run into anonymous memory (kbix/envelope/sealed_bytes.hpp), with a
// fresh Opener of `config` (exchange_steps.cpp).
Result<OpenedInMemory> open_sealed_in_memory(const OpenerConfig& config,
                                             const std::filesystem::path& sealed);

// Copies `from` to `to` (mode 0640) atomically without ever replacing `to`: a published output,
// an export's outbox copy (exchange_steps.cpp).
Status publish_copy(const std::filesystem::path& from, const std::filesystem::path& to);

// Makes `dir` (and its parents) and sees that it has mode `wanted` (e.g. 02750) and the group
// `group_name` ("" = any), changing only what is not right already. Under the service's sandbox
// (UMask=0077, RestrictSUIDSGID=, no chown) kbix can change neither, so there the folder must get
// them from its parent: setgid and a default ACL (the package's kbix.tmpfiles). A folder that is
// not right and cannot be made right is "io.permissions", with what the administrator does.
Status ensure_group_folder(const std::filesystem::path& dir, mode_t wanted,
                           const std::string& group_name);
}  // namespace kbix
