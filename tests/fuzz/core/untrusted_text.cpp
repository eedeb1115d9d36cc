// Fuzzes the sanitiser of untrusted text: for any bytes and any bound the result is valid UTF-8
// holding no control character, no ESC and no bidi override, is within the bound, is a fixed
// point, and dumps as JSON without throwing.
#include "kbix/core/untrusted_text.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Strict check, written independently of the sanitiser's decoder.
bool valid_and_harmless(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x20 || b == 0x7f) return false;
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (n == 0 || i + n > text.size()) return false;
    std::uint32_t c = b & (0x7fu >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto t = static_cast<unsigned char>(text[i + k]);
      if ((t & 0xc0) != 0x80) return false;
      c = (c << 6) | (t & 0x3fu);
    }
    const std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < minimum[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    if ((c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
      return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t bound = 3 + data[0] * 4u;  // 3..1023
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string safe = kbix::sanitize_untrusted_text(input, bound);
  if (safe.size() > bound || !valid_and_harmless(safe)) std::abort();
  if (kbix::sanitize_untrusted_text(safe, bound) != safe) std::abort();
  if (kbix::dump_json(nlohmann::json{{"text", std::string(input)}}).empty()) std::abort();
  return 0;
}
