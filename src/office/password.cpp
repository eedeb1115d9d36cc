#include "kbix/office/password.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace kbix::office {

static_assert(FilePassword::kAlphabet.size() == 30, "kEntropyBits assumes 30 characters");
static_assert(FilePassword::kAlphabet.find_first_of("0OQ1ILl") == std::string_view::npos,
              "no look-alike characters");

Status openssl_random_bytes(std::span<std::uint8_t> out) {
  if (out.empty()) return ok();
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    return fail("office.random", "the random generator (RAND_bytes) failed");
  return ok();
}

Status uniform_indices(std::size_t alphabet_size, std::span<std::uint8_t> out,
                       const RandomBytes& random) {
  if (alphabet_size < 2 || alphabet_size > 256)
    return fail("office.alphabet", "an alphabet needs 2 to 256 characters");
  // Bytes at or above `limit` would make the first (256 mod n) indices more likely: drop them.
  const std::size_t limit = 256 - 256 % alphabet_size;
  std::array<std::uint8_t, 64> pool{};
  std::size_t filled = 0;
  while (filled < out.size()) {
    KBIX_TRY(random(pool));
    for (const std::uint8_t byte : pool) {
      if (byte >= limit) continue;
      out[filled++] = static_cast<std::uint8_t>(byte % alphabet_size);
      if (filled == out.size()) break;
    }
  }
  OPENSSL_cleanse(pool.data(), pool.size());
  return ok();
}

bool has_grouped_shape(std::string_view text, const GroupedText& shape) {
  if (text.size() != shape.length()) return false;
  for (std::size_t at = 0; at < text.size(); ++at) {
    const bool dash_here = at % (shape.group_length + 1) == shape.group_length;
    if (dash_here ? text[at] != '-' : shape.alphabet.find(text[at]) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

Status fill_random_grouped(const GroupedText& shape, std::span<char> out) {
  if (out.size() != shape.length()) return fail("office.alphabet", "wrong size for grouped text");
  std::vector<std::uint8_t> indices(shape.groups * shape.group_length);
  auto drawn = uniform_indices(shape.alphabet.size(), indices, openssl_random_bytes);
  std::size_t at = 0;
  for (std::size_t i = 0; drawn && i < indices.size(); ++i) {
    if (i > 0 && i % shape.group_length == 0) out[at++] = '-';
    out[at++] = shape.alphabet[indices[i]];
  }
  OPENSSL_cleanse(indices.data(), indices.size());
  return drawn;
}

Result<FilePassword> FilePassword::generate() {
  FilePassword password;
  KBIX_TRY(fill_random_grouped(kShape, std::span(password.text_.data(), kLength)));
  return password;
}

Result<FilePassword> FilePassword::from_text(std::string_view text) {
  if (!has_grouped_shape(text, kShape))
    return fail("office.password_shape",
                "a file password has 3 groups of 7 characters from the password alphabet");
  FilePassword password;
  std::copy(text.begin(), text.end(), password.text_.begin());
  return password;
}

FilePassword::FilePassword(FilePassword&& other) noexcept : text_(other.text_) {
  other.wipe();
}

FilePassword& FilePassword::operator=(FilePassword&& other) noexcept {
  if (this != &other) {
    text_ = other.text_;
    other.wipe();
  }
  return *this;
}

FilePassword::~FilePassword() {
  wipe();
}

void FilePassword::wipe() noexcept {
  OPENSSL_cleanse(text_.data(), text_.size());
}

}  // namespace kbix::office
