// Sealed bytes: a small secret (a file password, the row-reference map) kept sealed on disk and
// never written anywhere as plaintext, not even as a temporary file.
//
// seal_bytes: the bytes go into an anonymous memory file (memfd_create: no name in any file
// system, gone when closed) and from there through Sealer::seal, so the sealed file is exactly
// what Sealer writes (signed, encrypted, atomic, mode 0600) and opens with the stock
// `openssl cms -decrypt` + `-verify` like every other sealed file.
// open_bytes: Opener's checks (the same code as Opener::open: recipient, tag, pinned signer,
// signing time) with both its scratch file and its output in anonymous memory; the verified
// content is copied into a SecretBytes and the memory files are wiped before they are closed.
//
// SecretBytes owns a buffer that is wiped (OPENSSL_cleanse) on destruction and after a move;
// it cannot be copied.
//
// Error codes: those of Sealer::seal and Opener::open, "envelope.too_large" when the sealed file
// is larger than max_bytes plus 1 MiB of structure or the content larger than max_bytes, and
// "io.memory" when no anonymous memory file can be made.
// Does NOT guarantee: that memory is locked (pages may be swapped out), or that copies the
// caller makes from bytes() are wiped.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/envelope/envelope.hpp"

namespace kbix {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);  // zero-filled
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_.get(), size_}; }
  [[nodiscard]] std::span<std::byte> writable() noexcept { return {data_.get(), size_}; }
  // The same bytes as text (for a parser); valid while this object lives.
  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data_.get()), size_};
  }

 private:
  void wipe() noexcept;
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
};

// Seals `plain` into `output` (replaced atomically, mode 0600); `name` stands for the plaintext
// in messages (e.g. "row references").
Result<SealReport> seal_bytes(const Sealer& sealer, std::span<const std::byte> plain,
                              std::string_view name, const std::filesystem::path& output);

// Opens a sealed file into memory: at most `max_bytes` of content.
Result<SecretBytes> open_bytes(const Opener& opener, const std::filesystem::path& input,
                               std::size_t max_bytes);

}  // namespace kbix
