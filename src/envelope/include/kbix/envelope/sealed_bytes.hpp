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
// open_into_memory: the same checks for a large file (a snapshot, a return for the merge); the
// verified content stays in its anonymous memory file, read through a descriptor (never mapped,
// so it does not count in the process's resident set), and is wiped when the OpenedInMemory
// ends. Nothing of it is ever on disk, and a killed process leaves nothing behind. During the
// open, the same memory file holds the decrypted SignedData first, and the content is moved to
// its start: the content's size and a little more, once.
//
// Does NOT guarantee: that memory is locked (pages may be swapped out), or that copies the
// caller makes from bytes() are wiped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "kbix/core/input_file.hpp"
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

namespace envelope_detail {
class MemoryFile;  // internal/memory_file.hpp
}

// The verified content of a sealed file, in an anonymous memory file (see above).
class OpenedInMemory {
 public:
  OpenedInMemory(OpenedInMemory&&) noexcept;
  OpenedInMemory& operator=(OpenedInMemory&&) noexcept;
  ~OpenedInMemory();  // wipes the content

  // The memory file's own descriptor (valid while this object lives; read with pread).
  int fd() const noexcept;
  std::uint64_t size() const noexcept { return report_.plaintext_bytes; }
  const OpenReport& report() const noexcept { return report_; }
  // A descriptor of its own on the content, from offset 0, called `label` in messages (error
  // "io.read"); the content is wiped only when this object ends.
  Result<InputFile> input(const std::string& label) const;

 private:
  friend Result<OpenedInMemory> open_into_memory(const Opener& opener,
                                                 const std::filesystem::path& input);
  OpenedInMemory(std::unique_ptr<envelope_detail::MemoryFile> content, OpenReport report);
  std::unique_ptr<envelope_detail::MemoryFile> content_;
  OpenReport report_;
};

// Opens a large sealed file into anonymous memory, with every check of Opener::open and its
// limit on the sealed file's size.
Result<OpenedInMemory> open_into_memory(const Opener& opener, const std::filesystem::path& input);

}  // namespace kbix
