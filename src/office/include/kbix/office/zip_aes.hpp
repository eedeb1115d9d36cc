// The AES-256 ZIP profile (libzip): one file in a ZIP archive, encrypted with WinZip AES-256
// (AE-2, ZIP_EM_AES_256), for a municipality that prefers 7-Zip to Excel's own password.
//
// Never ZipCrypto: the traditional PKWARE cipher is broken by a known-plaintext attack (an XLSX
// always starts with known bytes), so libzip is only ever asked for ZIP_EM_AES_256.
//
// What it does NOT guarantee: ZIP AES hides the content, not the entry's name, size, time or
// CRC-less metadata (AE-2 stores no CRC); its key derivation is PBKDF2-HMAC-SHA1 with only 1000
// iterations, so the protection rests on the password's 103 bits, not on the derivation.
// Windows Explorer's built-in ZIP support cannot open AES entries: 7-Zip (or WinZip) is needed.
#pragma once

#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/office/password.hpp"

namespace kbix::office {

// A ZIP archive (in memory, no temporary file) holding `content` as `entry_name`, deflated and
// AES-256-encrypted with `password`. `entry_name` is a plain file name (no '/', no "..").
// Errors "office.zip_entry_name", "office.zip_aes_unsupported" (libzip built without AES),
// "office.zip_write".
Result<std::string> write_zip_aes256(std::string_view content, std::string_view entry_name,
                                     const FilePassword& password);

}  // namespace kbix::office
