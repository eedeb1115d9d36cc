// Remote file names: untrusted input from the partner's SFTP server.
//
// A name listed by the server is accepted only when it is a plain, short, printable file name
// from a strict allowlist: [A-Za-z0-9._-], 1..kMaxRemoteNameLength bytes, not only dots, not
// starting with '-'. Everything else ('/', '\\', control characters, spaces, non-ASCII, "..",
// overlong names) is refused with a stable code. Temporary upload names follow the shared
// convention ".<final-name>.part-<hex>".
//
// Does NOT guarantee: that an accepted name exists, is a regular file, or matches a protocol's
// expected pattern (that is the readiness tracker's job); names are compared byte-wise, no
// Unicode normalisation is attempted (non-ASCII is simply refused).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"

namespace kbix {

// Our own names are about 60 bytes; 160 leaves room for the temporary-name decoration.
inline constexpr std::size_t kMaxRemoteNameLength = 160;

// Error codes: "sftp.name_empty", "sftp.name_too_long", "sftp.name_bad_char",
// "sftp.name_dots" (only dots, e.g. "..") and "sftp.name_leading_dash".
// The message shows the name escaped (see escape_remote_name), never raw bytes.
Status validate_remote_name(std::string_view name);

// A printable rendering for logs and messages: bytes outside 0x21..0x7e become "\xHH",
// and the result is cut after kMaxRemoteNameLength input bytes with a trailing "...".
std::string escape_remote_name(std::string_view name);

// ".<final_name>.part-<random_hex>": the name an upload is written under before its rename.
std::string temporary_upload_name(std::string_view final_name, std::string_view random_hex);

// True for names of the ".<x>.part-<hex>" form (left-overs of interrupted uploads).
bool is_temporary_upload_name(std::string_view name);

}  // namespace kbix
