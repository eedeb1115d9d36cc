// SHA-256 of byte streams and whole files, as raw bytes or lowercase hex.
//
// Used for whole-file hashes in manifests and the audit log, and for the audit hash chain.
// Never hash a single personal value with this: an unkeyed hash of one INSZ is reversible
// (DESIGN.md invariant 5). Keyed pseudonyms live in the domain module.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const std::uint8_t> bytes);
  void update(std::string_view bytes);
  // Ends this hash; the object may not be updated afterwards.
  Sha256Digest finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Sha256Digest sha256(std::string_view bytes);
std::string to_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);
// Streams the file; error code "io.read".
Result<std::string> sha256_file_hex(const std::filesystem::path& file);

}  // namespace kbix
