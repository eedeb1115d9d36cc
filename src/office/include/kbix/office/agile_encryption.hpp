// ECMA-376 agile encryption (MS-OFFCRYPTO 2.3.4.10–2.3.4.15): the "Encrypted Package" that
// Excel 2010 and later, and LibreOffice, open after asking for the password.
//
// Fixed parameters, the ones Excel itself writes: AES-256-CBC, SHA-512, 16-byte salts, a
// password spin count of 100000, a random 32-byte intermediate key; the package is encrypted
// in 4096-byte segments, each with its own IV (SHA-512(keyData salt ‖ segment index)); the
// integrity HMAC-SHA-512 over the whole EncryptedPackage stream is kept encrypted
// (dataIntegrity: encryptedHmacKey, encryptedHmacValue). Only the password key encryptor is
// written (no certificate encryptor).
//
// The container is an OLE compound file (libgsf) with the streams EncryptionInfo (version 4.4,
// reserved 0x40, then the XML descriptor), EncryptedPackage (8-byte plaintext size, then the
// segments) and the \x06DataSpaces storage that MS-OFFCRYPTO 2.2 describes.
//
// What it does NOT guarantee: the file's strength is the password's (FilePassword gives 103 bits;
// the spin count only slows guessing); file names, sizes and the fact that it is an encrypted
// workbook are visible; nothing here decrypts (the tests use msoffcrypto-tool as the reader).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kbix/core/result.hpp"
#include "kbix/office/password.hpp"

namespace kbix::office {

inline constexpr std::uint32_t kAgileSpinCount = 100000;
inline constexpr std::size_t kAgileSegmentBytes = 4096;

// Encrypts `package` (the bytes of an .xlsx, i.e. an OPC zip) into an Encrypted Package: the
// bytes of a compound file, to be saved with the extension .xlsx.
// Errors "office.crypto" (OpenSSL failed), "office.random", "office.cfb_write",
// "office.package_empty".
Result<std::string> encrypt_agile(std::string_view package, const FilePassword& password);

}  // namespace kbix::office
