// FilePassword: the password of one municipal file (invariant 15), generated per file.
//
// Shape: 21 characters in three groups of seven joined by '-' ("K7QXA2M-…-…"), drawn from
// kAlphabet, 30 characters without look-alikes (no 0/O/Q, 1/I/L, no lower case at all, so a
// password read from an SMS is typed without doubt). Entropy: 21 × log2(30) = 103.0 bits
// (kEntropyBits); the dashes carry none but are part of the password.
//
// Each character is drawn from OpenSSL's RAND_bytes with rejection sampling: a random byte is
// used only when it is below the largest multiple of 30 (240), so every character is exactly
// equally likely (no modulo bias).
//
// The type wipes its characters on destruction and after a move (OPENSSL_cleanse), cannot be
// copied, and has no operator<<, no formatter and no conversion to std::string: the text leaves
// only through reveal(), so every place that handles the value is visible in a grep.
//
// What it does NOT guarantee: copies the caller makes from reveal(), or that the libraries it is
// handed to (libzip keeps a copy until the archive is closed) wipe theirs; memory is not locked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix::office {

// The shape a file password and a row reference share: `groups` groups of `group_length`
// characters from `alphabet`, joined by '-'.
struct GroupedText {
  std::string_view alphabet;
  std::size_t groups = 0;
  std::size_t group_length = 0;
  [[nodiscard]] constexpr std::size_t length() const { return groups * group_length + groups - 1; }
};

// True when `text` has exactly that shape.
bool has_grouped_shape(std::string_view text, const GroupedText& shape);
// Fills `out` (exactly shape.length() characters) with random text of that shape: each character
// drawn by uniform_indices over RAND_bytes. Error "office.random".
Status fill_random_grouped(const GroupedText& shape, std::span<char> out);

class FilePassword {
 public:
  static constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKMNPRSTUVWXYZ";
  static constexpr std::size_t kGroups = 3;
  static constexpr std::size_t kGroupLength = 7;
  static constexpr std::size_t kRandomCharacters = kGroups * kGroupLength;  // 21
  static constexpr std::size_t kLength = kRandomCharacters + kGroups - 1;   // 23 with dashes
  static constexpr double kEntropyBits = 103.0;  // 21 × log2(30) = 103.04, floored
  static constexpr GroupedText kShape{kAlphabet, kGroups, kGroupLength};
  static_assert(kShape.length() == kLength);

  // A fresh password from RAND_bytes. Error "office.random" when the generator fails.
  static Result<FilePassword> generate();
  // Rebuilds a password kept elsewhere (sealed state, a test): exactly the shape above, else
  // "office.password_shape" (the message never holds the text).
  static Result<FilePassword> from_text(std::string_view text);

  FilePassword(FilePassword&& other) noexcept;
  FilePassword& operator=(FilePassword&& other) noexcept;
  FilePassword(const FilePassword&) = delete;
  FilePassword& operator=(const FilePassword&) = delete;
  ~FilePassword();

  // The only way to the text. data() is NUL-terminated (for C libraries).
  [[nodiscard]] std::string_view reveal() const noexcept { return {text_.data(), kLength}; }

 private:
  FilePassword() = default;
  void wipe() noexcept;
  std::array<char, kLength + 1> text_{};
};

// Fills `out` with random bytes; the seam through which tests drive the sampler.
using RandomBytes = std::function<Status(std::span<std::uint8_t> out)>;

// `count` indices uniform in [0, alphabet_size) (2 ≤ alphabet_size ≤ 256) by rejection
// sampling over bytes from `random`: a byte b is used only when b < 256 − 256 mod alphabet_size.
// Writes into `out` (out.size() == count). Exposed so a test can show the rejection.
Status uniform_indices(std::size_t alphabet_size, std::span<std::uint8_t> out,
                       const RandomBytes& random);

// RAND_bytes as a RandomBytes.
Status openssl_random_bytes(std::span<std::uint8_t> out);

}  // namespace kbix::office
