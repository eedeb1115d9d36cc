// Untrusted text: bytes from outside kbix (SSH banners and errors, remote and local file names,
// CSV cells, configuration values, operator text) made safe to put into a message, a log line,
// the run database, the audit log, JSON or a terminal (DESIGN.md invariant 16).
//
// sanitize_untrusted_text() is applied where such bytes ENTER kbix, once: valid UTF-8 is kept;
// each byte of an invalid sequence (bad lead byte, overlong form, surrogate, above U+10FFFF,
// truncated) becomes U+FFFD; C0 controls and DEL become "\xNN", C1 controls
// (U+0080..U+009F, e.g. the one-byte CSI) "\u{NN}" and bidirectional overrides (U+202A..U+202E,
// U+2066..U+2069) "\u{NNNN}", so nothing can move the cursor, recolour or reorder a terminal line.
// The result is at most `max_bytes` bytes (cut at a character boundary, "..." appended within)
// and a fixed point (sanitising twice changes nothing, so a second pass on the way is harmless;
// the backslash is therefore kept as it is).
//
// dump_json() is the one way kbix serialises JSON: compact, and invalid UTF-8 that reaches a
// JSON string anyway is replaced instead of throwing (nlohmann's default throws).
//
// Does NOT guarantee: that the text is free of personal data (callers still never quote values),
// or that two different inputs stay distinguishable after the cut.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kbix {

inline constexpr std::size_t kMaxUntrustedTextBytes = 512;

std::string sanitize_untrusted_text(std::string_view bytes,
                                    std::size_t max_bytes = kMaxUntrustedTextBytes);

// True when sanitize_untrusted_text() would return `bytes` unchanged.
bool is_safe_text(std::string_view bytes, std::size_t max_bytes = kMaxUntrustedTextBytes);

// JSON text with invalid UTF-8 replaced (U+FFFD); `indent` as nlohmann (-1 = one line).
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace kbix
