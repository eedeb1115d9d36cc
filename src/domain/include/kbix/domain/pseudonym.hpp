// PseudonymKey: the secret behind keyed pseudonyms (protocol mode "hmac-sha256").
//
// pseudo_id = lowercase hex of HMAC-SHA256(key, the INSZ's 11 canonical digits), truncated to
// 128 bits (32 hex characters). Without the key a pseudo_id cannot be linked back to an INSZ; with
// it, anyone can, so the key is as sensitive as the data (invariant 7 applies to its file).
// key_id() = first 16 hex characters of SHA-256(key): it names the key in manifests and the audit
// log without revealing it. The key bytes are wiped when the object is destroyed.
// Errors: pseudonym.key_unreadable, pseudonym.key_too_short (< 32 bytes), security.key_file_mode.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "kbix/core/result.hpp"
#include "kbix/domain/insz.hpp"

namespace kbix {

class PseudonymKey {
 public:
  static Result<PseudonymKey> load(const std::filesystem::path& key_file);
  const std::string& key_id() const { return key_id_; }
  std::string pseudo_id(const Insz& insz) const;

 private:
  struct Secret;
  std::shared_ptr<Secret> secret_;
  std::string key_id_;
};

}  // namespace kbix
