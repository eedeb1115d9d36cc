// AuditSettings: where the audit log lives, when it checkpoints and rotates, and the key that
// signs its checkpoints. The only settings type of the audit log: the configuration loader fills
// it ([audit], with the directory from [daemon] state_dir and the key from [keys]); tests and
// tools build it in code. Its defaults are the loader's defaults.
//
// Does NOT guarantee: that the directory or the key exist (AuditLog::open checks them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace kbix {

struct AuditSettings {
  std::filesystem::path directory;  // <state_dir>/audit
  int checkpoint_every = 100;       // a signed checkpoint after this many entries
  std::int64_t rotate_bytes = 64LL << 20;
  std::filesystem::path signing_key;  // AgII's signing key and certificate ([keys])
  std::filesystem::path signing_certificate;
  std::optional<std::filesystem::path> key_passphrase_file;
  // Each signed checkpoint is also appended here (outside the state directory) ...
  std::optional<std::filesystem::path> checkpoint_copy;
  // ... and sent to the system journal (field KBIX_CHECKPOINT), so a cut is found (inv. 9).
  bool checkpoint_journal = true;
};

}  // namespace kbix
