#include "kbix/core/untrusted_text.hpp"

#include <cstdint>
#include <cstdio>

namespace kbix {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kCut = "...";

// Length of the valid UTF-8 sequence at the start of `rest` and its code point; 0 if invalid.
std::size_t decode(std::string_view rest, char32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(rest[i]); };
  const std::uint8_t lead = byte(0);
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, value = lead & 0x1Fu, minimum = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, value = lead & 0x0Fu, minimum = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, value = lead & 0x07u, minimum = 0x10000;
  } else {
    return 0;
  }
  if (rest.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0u) != 0x80u) return 0;
    value = (value << 6) | (byte(i) & 0x3Fu);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  code_point = value;
  return length;
}

bool is_bidi_control(char32_t c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

// The safe rendering of one input character (`raw` holds its bytes).
std::string render(std::string_view raw, std::size_t length, char32_t c) {
  char text[16];
  if (length == 0) return std::string(kReplacement);
  if (c < 0x20 || c == 0x7F) {
    std::snprintf(text, sizeof text, "\\x%02x", static_cast<unsigned>(c));
    return text;
  }
  if ((c >= 0x80 && c <= 0x9F) || is_bidi_control(c)) {
    std::snprintf(text, sizeof text, "\\u{%x}", static_cast<unsigned>(c));
    return text;
  }
  return std::string(raw.substr(0, length));
}

}  // namespace

std::string sanitize_untrusted_text(std::string_view bytes, std::size_t max_bytes) {
  const std::size_t limit = max_bytes < kCut.size() ? kCut.size() : max_bytes;
  std::string out;
  std::size_t last_fitting_cut = 0;  // the longest prefix of whole pieces that leaves room
  std::string_view rest = bytes;
  while (!rest.empty() && out.size() <= limit) {
    char32_t c = 0;
    const std::size_t length = decode(rest, c);
    out += render(rest, length, c);
    rest.remove_prefix(length == 0 ? 1 : length);
    if (out.size() + kCut.size() <= limit) last_fitting_cut = out.size();
  }
  if (out.size() <= limit && rest.empty()) return out;
  out.resize(last_fitting_cut);
  out += kCut;
  return out;
}

bool is_safe_text(std::string_view bytes, std::size_t max_bytes) {
  return sanitize_untrusted_text(bytes, max_bytes) == bytes;
}

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kbix
